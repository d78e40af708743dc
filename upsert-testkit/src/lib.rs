//! Real PostgreSQL for atomic-upsert's tests, examples and benchmarks.
//!
//! [`server`] returns the server of this process: `DATABASE_URL` when set, otherwise a
//! throwaway server started with `initdb` + `pg_ctl` in a temporary directory, on a free
//! port. A watchdog process stops it and removes the directory when this process exits,
//! however it exits. [`TestDb::new`] gives each test its own schema, so tests run in
//! parallel without seeing each other's tables.
//!
//! Without PostgreSQL binaries and without `DATABASE_URL`, [`server`] panics with the
//! command that installs them: no test skips silently.
//!
//! ```no_run
//! # async fn demo() {
//! let db = upsert_testkit::TestDb::new(4).await;
//! sqlx::query("CREATE TABLE t (id int PRIMARY KEY)").execute(&db.pool).await.unwrap();
//! db.finish().await;
//! # }
//! ```

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

#[cfg(feature = "mysql")]
pub mod mysql;

use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// How to get PostgreSQL, printed whenever it is missing.
pub const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH \
     or in /usr/lib/postgresql/*/bin, and DATABASE_URL is not set.\n\
     Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu), \
     `brew install postgresql@15` (macOS) or `dnf install postgresql-server` (Fedora), \
     or run `./scripts/test` which installs them on Debian, \
     or point DATABASE_URL at a server you own (tests create and drop their own schemas).";

/// A running server and how to reach it.
#[derive(Debug)]
pub struct Server {
    /// The connection URL (`postgres://..`).
    pub url: String,
    /// `true` when this process started the server (it goes away with the process).
    pub throwaway: bool,
}

/// The server of this process, started on first use.
///
/// # Panics
/// When neither `DATABASE_URL` nor PostgreSQL binaries are available, or the server does
/// not start; the message says why and what to do.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Server {
            url,
            throwaway: false,
        },
        _ => match start_throwaway(false, false) {
            Ok((url, _, _)) => Server {
                url,
                throwaway: true,
            },
            Err(why) => panic!("cannot start a throwaway PostgreSQL: {why}"),
        },
    })
}

/// Connect options for [`server`], quiet about statement logging.
///
/// # Panics
/// When the URL does not parse.
#[must_use]
pub fn connect_options() -> PgConnectOptions {
    PgConnectOptions::from_str(&server().url)
        .unwrap_or_else(|e| panic!("bad DATABASE_URL {:?}: {e}", server().url))
        .disable_statement_logging()
}

/// xorshift64*: deterministic test data without a dependency, the same on every backend.
///
/// ```
/// let mut rng = upsert_testkit::Rng(7);
/// assert!(rng.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    /// A number in `0..n` as an `i32`.
    pub fn int(&mut self, n: u64) -> i32 {
        i32::try_from(self.below(n)).unwrap_or(i32::MAX)
    }

    /// A number in `0..n`, or `None` one time in four.
    pub fn maybe(&mut self, n: u64) -> Option<i64> {
        (self.below(4) != 0).then(|| i64::try_from(self.below(n)).unwrap_or(i64::MAX))
    }

    /// `t<n>`, or `None` one time in four.
    pub fn text(&mut self, n: u64) -> Option<String> {
        self.maybe(n).map(|v| format!("t{v}"))
    }
}

/// One test's private schema on the shared server, with a pool whose `search_path` is it.
pub struct TestDb {
    /// Connections whose unqualified table names resolve in [`TestDb::schema`].
    pub pool: PgPool,
    /// The schema's name, unique within the server.
    pub schema: String,
}

impl TestDb {
    /// Creates a fresh schema and a pool of up to `max_connections` connections into it.
    ///
    /// # Panics
    /// When the server is unreachable.
    pub async fn new(max_connections: u32) -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let schema = format!(
            "au_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(format!("CREATE SCHEMA \"{schema}\"")).await;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(connect_options().options([("search_path", schema.as_str())]))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server().url));
        TestDb { pool, schema }
    }

    /// Closes the pool and drops the schema. Tests call it last, so a failed test leaves
    /// its schema behind for inspection.
    ///
    /// # Panics
    /// When the schema cannot be dropped.
    pub async fn finish(self) {
        self.pool.close().await;
        admin_sql(format!("DROP SCHEMA \"{}\" CASCADE", self.schema)).await;
    }
}

/// Runs one statement on a short-lived connection outside any test schema.
async fn admin_sql(sql: String) {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(connect_options())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server().url));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("{sql} failed: {e}"));
    admin.close().await;
}

/// The environment variable naming the directory of the server binaries to test against
/// (`initdb`, `pg_ctl`, `postgres`): `scripts/test` points it at PostgreSQL 18 for the
/// second run of the suite.
pub const BIN_DIR_VAR: &str = "ATOMIC_UPSERT_PG_BIN";

/// The directory holding `initdb` and `pg_ctl`: [`BIN_DIR_VAR`] when set, then PATH, then
/// the newest `/usr/lib/postgresql/<version>/bin`.
///
/// # Panics
/// When [`BIN_DIR_VAR`] is set to a directory without `initdb` and `pg_ctl`: a run asked
/// for a server must not quietly test another.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_DIR_VAR).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").is_file() && dir.join("pg_ctl").is_file(),
            "{BIN_DIR_VAR}={} holds no initdb and pg_ctl",
            dir.display()
        );
        return Some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A command that runs `program` as the `postgres` user when we are root (PostgreSQL
/// refuses to run as root).
fn pg_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}

/// A server of its own for a test that stops or restarts it (the shared [`server`] must stay
/// up for the other tests of the process). Always a throwaway server, even when
/// `DATABASE_URL` is set: an external server cannot be restarted by a test.
pub struct Dedicated {
    /// The connection URL.
    pub url: String,
    /// For a server from [`Dedicated::start_tls_only`]: the certificate of the throwaway CA
    /// that signed the server's certificate (for `sslmode=verify-ca`/`verify-full` with
    /// `sslrootcert`).
    pub ca_cert: Option<PathBuf>,
    restart: Command,
}

impl Dedicated {
    /// Starts one.
    ///
    /// # Panics
    /// When the PostgreSQL binaries are missing (with [`INSTALL_HINT`]) or it does not start.
    #[must_use]
    pub fn start() -> Dedicated {
        let (url, restart, ca_cert) = start_throwaway(false, false)
            .unwrap_or_else(|why| panic!("cannot start a dedicated PostgreSQL: {why}"));
        Dedicated {
            url,
            ca_cert,
            restart,
        }
    }

    /// Starts one that accepts only TLS connections (`hostssl` in `pg_hba.conf`, every
    /// other TCP connection rejected), with a server certificate for `127.0.0.1` and
    /// `localhost` signed by a throwaway CA ([`Dedicated::ca_cert`]). Needs `openssl`.
    ///
    /// # Panics
    /// When the PostgreSQL binaries or `openssl` are missing, or the server does not start.
    #[must_use]
    pub fn start_tls_only() -> Dedicated {
        let (url, restart, ca_cert) = start_throwaway(true, false)
            .unwrap_or_else(|why| panic!("cannot start a TLS-only PostgreSQL: {why}"));
        Dedicated {
            url,
            ca_cert,
            restart,
        }
    }

    /// Starts one that makes every commit durable, as production servers do (`fsync=on`,
    /// `synchronous_commit=on`, `full_page_writes=on`; the others run without them): for
    /// benchmarks where the cost of a commit matters.
    ///
    /// # Panics
    /// When the PostgreSQL binaries are missing (with [`INSTALL_HINT`]) or it does not start.
    #[must_use]
    pub fn start_durable() -> Dedicated {
        let (url, restart, ca_cert) = start_throwaway(false, true)
            .unwrap_or_else(|why| panic!("cannot start a durable PostgreSQL: {why}"));
        Dedicated {
            url,
            ca_cert,
            restart,
        }
    }

    /// Restarts it (`pg_ctl restart -m fast`: every connection is closed, committed work
    /// survives), waiting until it accepts connections again.
    ///
    /// # Panics
    /// When the restart fails.
    pub fn restart(&mut self) {
        let out = self.restart.output().expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl restart failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Writes a throwaway CA and a server certificate it signed (`127.0.0.1`, `localhost`) into
/// `data`, with a `pg_hba.conf` that takes TCP connections only over TLS; returns the server
/// options that turn TLS on, and the CA's certificate.
fn make_certificates(dir: &Path, data: &Path) -> Result<(String, PathBuf), String> {
    let openssl = |args: &[&str], what: &str| {
        let mut command = Command::new("openssl");
        command.args(args).current_dir(dir);
        run(command, what).map_err(|e| format!("{e} (is `openssl` installed?)"))
    };
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=atomic-upsert test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        "openssl: the CA",
    )?;
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        "openssl: the server key",
    )?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| format!("cannot write server.ext: {e}"))?;
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        "openssl: the server certificate",
    )?;
    for file in ["server.crt", "server.key"] {
        std::fs::copy(dir.join(file), data.join(file))
            .map_err(|e| format!("cannot copy {file}: {e}"))?;
    }
    // Only TLS over TCP; the Unix socket stays open for pg_ctl.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n\
         hostnossl all all 0.0.0.0/0 reject\n",
    )
    .map_err(|e| format!("cannot write pg_hba.conf: {e}"))?;
    Ok((
        " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".to_owned(),
        dir.join("ca.crt"),
    ))
}

/// Certificates and a TLS-only `pg_hba.conf` in `data`, owned by the server's user.
fn enable_tls(dir: &Path, data: &Path, as_root: bool) -> Result<(String, PathBuf), String> {
    let made = make_certificates(dir, data)?;
    if as_root {
        // initdb ran as postgres; the certificates were written by us.
        let mut chown = Command::new("chown");
        chown.args(["-R", "postgres:", data.to_str().unwrap_or_default()]);
        run(chown, "chown the data directory")?;
    }
    let mut chmod = Command::new("chmod");
    chmod.args(["600", data.join("server.key").to_str().unwrap_or_default()]);
    run(chmod, "chmod the server key")?;
    Ok(made)
}

/// The file a test run lists the servers it started in, one line each (`scripts/test`
/// sets it and counts them in its summary).
pub const SERVER_LOG_VAR: &str = "ATOMIC_UPSERT_SERVER_LOG";

/// Appends `what` to the file [`SERVER_LOG_VAR`] names, if set (best effort: a run's
/// summary, never its result, depends on it).
pub fn record_server(what: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os(SERVER_LOG_VAR) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{what}");
    }
}

/// Gives `dir` to the `postgres` user (the server refuses to run as root).
fn chown_to_postgres(dir: &Path) -> Result<(), String> {
    let mut chown = Command::new("chown");
    chown.args(["postgres:", dir.to_str().unwrap_or_default()]);
    run(
        chown,
        "chown to the postgres user (does the `postgres` user exist?)",
    )
}

fn start_throwaway(tls: bool, durable: bool) -> Result<(String, Command, Option<PathBuf>), String> {
    let bin = find_bin_dir().ok_or_else(|| INSTALL_HINT.to_owned())?;
    let as_root = is_root();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("atomic-upsert-pg-{}-{nanos}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if as_root {
        chown_to_postgres(&dir)?;
    }

    let mut initdb = pg_command(as_root, &bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
        "--locale=C",
    ]);
    run(initdb, "initdb")?;
    let (tls_options, ca_cert) = if tls {
        let (options, ca) = enable_tls(&dir, &data, as_root)?;
        (options, Some(ca))
    } else {
        (String::new(), None)
    };

    // A watchdog outside our process group stops the server and removes the directory
    // once this process is gone, even after a panic, Ctrl-C or `kill -9`.
    let pg_ctl = bin.join("pg_ctl");
    let stop = if as_root {
        format!(
            "runuser -u postgres -- '{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "'{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    };
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))?;

    // A free port can be taken between our probe and the server's bind; try a few.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let options = format!(
            "-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c fsync={durability} -c synchronous_commit={durability} -c full_page_writes={durability} \
             -c shared_buffers=256MB -c max_wal_size=2GB -c deadlock_timeout=100ms{tls_options}",
            dir = dir.display(),
            durability = if durable { "on" } else { "off" },
        );
        let mut start = pg_command(as_root, &pg_ctl);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        match run(start, "pg_ctl start") {
            Ok(()) => {
                record_server(&format!("PostgreSQL ({}) on port {port}", bin.display()));
                let mut restart = pg_command(as_root, &pg_ctl);
                restart
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(dir.join("server.log"))
                    .args(["-w", "-t", "60", "-m", "fast", "-o", &options, "restart"])
                    .stdin(Stdio::null());
                return Ok((
                    format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    restart,
                    ca_cert,
                ));
            }
            Err(why) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                last_error = format!("{why}\nserver log:\n{log}");
            }
        }
    }
    Err(last_error)
}
