//! Real MariaDB (or MySQL) for the MySQL backend's tests (the `mysql` feature).
//!
//! [`server`] returns the server of this process: `MYSQL_URL` when set, otherwise a
//! throwaway MariaDB (Debian's `mariadb-server`; `scripts/test` installs it when missing)
//! initialised with `mariadb-install-db` in a temporary directory and started as the
//! `mysql` user on a free port, never the system service. A watchdog stops it and removes
//! the directory when this process exits. [`MyDb::new`] gives each test a database of its
//! own.
//!
//! ```no_run
//! # async fn demo() {
//! let db = upsert_testkit::mysql::MyDb::new(4).await;
//! sqlx::query("CREATE TABLE t (id int PRIMARY KEY)").execute(&db.pool).await.unwrap();
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::{free_port, is_root, run};

/// How to get MariaDB, printed whenever it is missing.
pub const INSTALL_HINT: &str = "MariaDB server binaries (mariadb-install-db, mariadbd) were not found, \
     and MYSQL_URL is not set.\n\
     Install them with `sudo apt-get install -y mariadb-server` (Debian/Ubuntu; the system service \
     is not needed), or run `./scripts/test` which installs them on Debian, \
     or point MYSQL_URL at a server you own (tests create and drop their own databases).";

/// A running MariaDB or MySQL server and how to reach it.
#[derive(Debug)]
pub struct MyServer {
    /// The connection URL (`mysql://..`), without a database.
    pub url: String,
}

/// The server of this process, started on first use.
///
/// # Panics
/// When neither `MYSQL_URL` nor MariaDB binaries are available, or the server does not
/// start; the message says why and what to do.
pub fn server() -> &'static MyServer {
    static SERVER: OnceLock<MyServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let url = match std::env::var("MYSQL_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => start_throwaway()
                .unwrap_or_else(|why| panic!("cannot start a throwaway MariaDB: {why}")),
        };
        MyServer { url }
    })
}

/// A database of its own on [`server`], and a pool on it.
pub struct MyDb {
    /// A pool on the database.
    pub pool: MySqlPool,
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl MyDb {
    /// A fresh database with a pool of up to `max_connections`.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub async fn new(max_connections: u32) -> MyDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = server();
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = MySqlPoolOptions::new()
            .max_connections(1)
            .connect(&server.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server.url));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
        )))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await;
        let url = format!("{}/{name}", server.url.trim_end_matches('/'));
        let pool = MySqlPoolOptions::new()
            .max_connections(max_connections)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        MyDb { pool, name, url }
    }
}

/// The directory holding `mariadbd` and `mariadb-install-db`, or `mysqld`.
fn find_bins() -> Option<(PathBuf, PathBuf)> {
    let dirs = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];
    let find = |name: &str| {
        dirs.iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|path| path.is_file())
    };
    Some((find("mariadbd")?, find("mariadb-install-db")?))
}

/// A command that runs `program` as the `mysql` user when we are root (the server refuses
/// to run as root).
fn as_mysql(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "mysql", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start_throwaway() -> Result<String, String> {
    let (mariadbd, install_db) = find_bins().ok_or_else(|| INSTALL_HINT.to_owned())?;
    let as_root = is_root();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "atomic-upsert-mariadb-{}-{nanos}",
        std::process::id()
    ));
    let (data, tmp) = (dir.join("data"), dir.join("tmp"));
    for made in [&data, &tmp] {
        std::fs::create_dir_all(made)
            .map_err(|e| format!("cannot create {}: {e}", made.display()))?;
    }
    if as_root {
        let mut chown = Command::new("chown");
        chown.args(["-R", "mysql:", dir.to_str().unwrap_or_default()]);
        run(
            chown,
            "chown to the mysql user (does the `mysql` user exist?)",
        )?;
    }
    let mut install = as_mysql(as_root, &install_db);
    install
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--skip-test-db", "--auth-root-authentication-method=normal"]);
    run(install, "mariadb-install-db")?;

    let pid_file = dir.join("server.pid");
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -9 $(cat '{pid_file}') >/dev/null 2>&1; sleep 1; rm -rf '{dir}'",
        pid = std::process::id(),
        pid_file = pid_file.display(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))?;

    let socket = dir.join("server.sock");
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let log = dir.join("server.log");
        let mut start = as_mysql(as_root, &mariadbd);
        start
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", pid_file.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
                "--max-connections=500",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-buffer-pool-size=256M",
                "--innodb-lock-wait-timeout=10",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = start
            .spawn()
            .map_err(|e| format!("cannot run mariadbd: {e}"))?;
        match wait_ready(&mut child, &socket, port) {
            Ok(()) => {
                create_user(&socket)?;
                crate::record_server(&format!("MariaDB ({}) on port {port}", mariadbd.display()));
                return Ok(format!("mysql://atomic:atomic@127.0.0.1:{port}"));
            }
            Err(why) => {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{why}\nserver log:\n{log}");
            }
        }
    }
    Err(last_error)
}

/// Waits until the server listens on `port` (and its socket exists), or exits.
fn wait_ready(child: &mut std::process::Child, socket: &Path, port: u16) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("mariadbd exited ({status})"));
        }
        if socket.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if started.elapsed() > Duration::from_mins(1) {
            return Err("mariadbd did not listen within a minute".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The user the tests connect as over TCP, with a password: root is for the socket only.
fn create_user(socket: &Path) -> Result<(), String> {
    let mut grant = Command::new("mariadb");
    grant
        .arg("--no-defaults")
        .arg(format!("--socket={}", socket.display()))
        .args(["-uroot", "-e"])
        .arg("CREATE USER 'atomic'@'%' IDENTIFIED BY 'atomic'; GRANT ALL ON *.* TO 'atomic'@'%';");
    run(grant, "create the test user")
}
