//! `--profile`: where one call's time goes. Each measurement runs `--calls` calls one after
//! the other on one thread (a current-thread runtime; Diesel and pgbench need none), in
//! interleaved rounds; each figure is the median over rounds of the mean per call:
//! - wall time per call;
//! - this thread's CPU time per call (`/proc/thread-self/schedstat`, nanoseconds): the
//!   client's own work (encoding, the statement cache, futures, the socket's system
//!   calls), without the time spent waiting for the server.
//!
//! The parts are measured by taking them away one at a time: the same statement with
//! each client; `SELECT 1` (the round trip with almost no server work); binding without
//! sending (encoding); a pool checkout and return with no statement; and pgbench, the C
//! client, sending the same statement prepared (the floor: server plus wire).

use std::time::Instant;

use atomic_upsert::AtomicUpsert as _;
use atomic_upsert::sqlx::{self, Connection as _, Row as _};
use diesel::Connection as _;
use sqlx08::{Connection as _, Row as _};

use crate::{Args, HAND_SQL, KEYS, Pools, Rng, StravaStats, diesel_upsert, median, pools, rows};

/// One thing measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Measure {
    Derive,
    Sqlx09,
    Sqlx08,
    Diesel,
    Select09,
    Select08,
    Bind09,
    DerivePool,
    DerivePoolUnchecked,
    Sqlx09Pool,
    Sqlx09PoolUnchecked,
    Sqlx08Pool,
    Sqlx08PoolUnchecked,
    Acquire09,
    Acquire09Unchecked,
    Acquire08,
    Acquire08Unchecked,
    Pgbench,
}

impl Measure {
    const ALL: [Measure; 18] = [
        Measure::Derive,
        Measure::Sqlx09,
        Measure::Sqlx08,
        Measure::Diesel,
        Measure::Select09,
        Measure::Select08,
        Measure::Bind09,
        Measure::DerivePool,
        Measure::DerivePoolUnchecked,
        Measure::Sqlx09Pool,
        Measure::Sqlx09PoolUnchecked,
        Measure::Sqlx08Pool,
        Measure::Sqlx08PoolUnchecked,
        Measure::Acquire09,
        Measure::Acquire09Unchecked,
        Measure::Acquire08,
        Measure::Acquire08Unchecked,
        Measure::Pgbench,
    ];

    fn label(self) -> &'static str {
        match self {
            Measure::Derive => "derive `upsert`, held connection",
            Measure::Sqlx09 => "sqlx 0.9 `query(..).bind(..).fetch_one`, held connection",
            Measure::Sqlx08 => "sqlx 0.8 `query(..).bind(..).fetch_one`, held connection",
            Measure::Diesel => "Diesel `on_conflict(..).do_update()`, held connection",
            Measure::Select09 => "sqlx 0.9 `SELECT 1`, held connection",
            Measure::Select08 => "sqlx 0.8 `SELECT 1`, held connection",
            Measure::Bind09 => "sqlx 0.9 `query(..).bind(..)` only (encode, no I/O)",
            Measure::DerivePool => "derive `upsert(&pool)`, `test_before_acquire(true)` (default)",
            Measure::DerivePoolUnchecked => "derive `upsert(&pool)`, `test_before_acquire(false)`",
            Measure::Sqlx09Pool => "sqlx 0.9 same statement on `&pool`, checked (default)",
            Measure::Sqlx09PoolUnchecked => "sqlx 0.9 same statement on `&pool`, unchecked",
            Measure::Sqlx08Pool => "sqlx 0.8 same statement on `&pool`, checked (default)",
            Measure::Sqlx08PoolUnchecked => "sqlx 0.8 same statement on `&pool`, unchecked",
            Measure::Acquire09 => "sqlx 0.9 `pool.acquire()` + drop, checked (default)",
            Measure::Acquire09Unchecked => "sqlx 0.9 `pool.acquire()` + drop, unchecked",
            Measure::Acquire08 => "sqlx 0.8 `pool.acquire()` + drop, checked (default)",
            Measure::Acquire08Unchecked => "sqlx 0.8 `pool.acquire()` + drop, unchecked",
            Measure::Pgbench => "pgbench (C, libpq), same statement, `-M prepared`",
        }
    }
}

/// This thread's CPU time so far, in nanoseconds (the first field of
/// `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// The connections and pools of one measurement run: a held connection of each client,
/// and the pools of one connection each, with and without the check on checkout.
struct Clients {
    conn09: sqlx::PgConnection,
    conn08: sqlx08::PgConnection,
    diesel: diesel::PgConnection,
    pools: Pools,
}

async fn clients(url: &str) -> Clients {
    Clients {
        conn09: sqlx::PgConnection::connect(url).await.expect("connects"),
        conn08: sqlx08::PgConnection::connect(url).await.expect("connects"),
        diesel: diesel::PgConnection::establish(url).expect("diesel connects"),
        pools: pools(url, 1).await,
    }
}

/// `calls` of `measure`: (wall µs per call, CPU µs per call).
#[allow(clippy::cast_precision_loss)]
async fn measure(
    what: Measure,
    c: &mut Clients,
    rows: &[StravaStats],
    calls: usize,
    pgbench: &dyn Fn(usize) -> f64,
) -> (f64, f64) {
    if what == Measure::Pgbench {
        return (pgbench(calls), f64::NAN);
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let cpu = thread_cpu_ns();
    let started = Instant::now();
    for _ in 0..calls {
        let row = &rows[rng.below(KEYS)];
        match what {
            Measure::Derive => {
                std::hint::black_box(row.upsert(&mut c.conn09).await.expect("upsert"));
            }
            Measure::Sqlx09 => {
                let r = sqlx::query(HAND_SQL)
                    .bind(&row.stats_type)
                    .bind(&row.data)
                    .fetch_one(&mut c.conn09)
                    .await
                    .expect("sqlx 0.9");
                std::hint::black_box(r.get::<bool, _>(0));
            }
            Measure::Sqlx08 => {
                let r = sqlx08::query(HAND_SQL)
                    .bind(&row.stats_type)
                    .bind(sqlx08::types::Json(&row.data.0))
                    .fetch_one(&mut c.conn08)
                    .await
                    .expect("sqlx 0.8");
                std::hint::black_box(r.get::<bool, _>(0));
            }
            Measure::Diesel => {
                std::hint::black_box(diesel_upsert(&mut c.diesel, row));
            }
            Measure::Select09 => {
                let r = sqlx::query("SELECT 1")
                    .fetch_one(&mut c.conn09)
                    .await
                    .expect("select");
                std::hint::black_box(r.get::<i32, _>(0));
            }
            Measure::Select08 => {
                let r = sqlx08::query("SELECT 1")
                    .fetch_one(&mut c.conn08)
                    .await
                    .expect("select");
                std::hint::black_box(r.get::<i32, _>(0));
            }
            Measure::Bind09 => {
                drop(std::hint::black_box(
                    sqlx::query(HAND_SQL).bind(&row.stats_type).bind(&row.data),
                ));
            }
            Measure::DerivePool => {
                std::hint::black_box(row.upsert(&c.pools.sqlx09[0]).await.expect("upsert"));
            }
            Measure::DerivePoolUnchecked => {
                std::hint::black_box(row.upsert(&c.pools.sqlx09[1]).await.expect("upsert"));
            }
            Measure::Sqlx09Pool | Measure::Sqlx09PoolUnchecked => {
                let pool = if what == Measure::Sqlx09Pool {
                    &c.pools.sqlx09[0]
                } else {
                    &c.pools.sqlx09[1]
                };
                let r = sqlx::query(HAND_SQL)
                    .bind(&row.stats_type)
                    .bind(&row.data)
                    .fetch_one(pool)
                    .await
                    .expect("sqlx 0.9");
                std::hint::black_box(r.get::<bool, _>(0));
            }
            Measure::Sqlx08Pool | Measure::Sqlx08PoolUnchecked => {
                let pool = if what == Measure::Sqlx08Pool {
                    &c.pools.sqlx08[0]
                } else {
                    &c.pools.sqlx08[1]
                };
                let r = sqlx08::query(HAND_SQL)
                    .bind(&row.stats_type)
                    .bind(sqlx08::types::Json(&row.data.0))
                    .fetch_one(pool)
                    .await
                    .expect("sqlx 0.8");
                std::hint::black_box(r.get::<bool, _>(0));
            }
            Measure::Acquire09 => drop(c.pools.sqlx09[0].acquire().await.expect("checkout")),
            Measure::Acquire09Unchecked => {
                drop(c.pools.sqlx09[1].acquire().await.expect("checkout"));
            }
            Measure::Acquire08 => drop(c.pools.sqlx08[0].acquire().await.expect("checkout")),
            Measure::Acquire08Unchecked => {
                drop(c.pools.sqlx08[1].acquire().await.expect("checkout"));
            }
            Measure::Pgbench => unreachable!("run as a process"),
        }
    }
    let wall = started.elapsed().as_secs_f64() * 1e6 / calls as f64;
    let cpu = (thread_cpu_ns() - cpu) as f64 / 1e3 / calls as f64;
    (wall, cpu)
}

/// pgbench, the C client, sending the derive's statement prepared `calls` times with the
/// same rows (its script binds the key; the payload is a literal in the statement): mean
/// latency in µs.
fn pgbench(url: &str, calls: usize) -> f64 {
    let bin = pgbench_binary()
        .expect("pgbench (postgresql-15's binaries) on PATH or in /usr/lib/postgresql/*/bin");
    let payload = r#"{"count": 1, "distance": 1234.5, "moving_time": 3600, "elevation_gain": 12.5, "achievement_count": 3, "kind": "ride"}"#;
    let script =
        std::env::temp_dir().join(format!("atomic-upsert-peers-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "\\set k random(0, {})\nINSERT INTO \"strava_stats\" (\"stats_type\", \"data\", \"updated_at\") VALUES ('key-' || :k, '{payload}', now()) ON CONFLICT (\"stats_type\") DO UPDATE SET \"data\" = EXCLUDED.\"data\", \"updated_at\" = now() RETURNING (xmax = 0);\n",
            KEYS - 1
        ),
    )
    .expect("writes the pgbench script");
    let out = std::process::Command::new(bin)
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            "1",
            "-t",
            &calls.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "latency average = 0.242 ms"
    text.lines()
        .find_map(|l| l.strip_prefix("latency average = "))
        .and_then(|v| v.trim_end_matches(" ms").parse::<f64>().ok())
        .map(|ms| ms * 1e3)
        .expect("pgbench prints its latency average")
}

fn pgbench_binary() -> Option<std::path::PathBuf> {
    let mut dirs: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<_> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter()
        .map(|d| d.join("pgbench"))
        .find(|p| p.exists())
}

/// Runs every measurement `args.rounds` times, interleaved, and prints the table.
pub fn run(args: &Args, url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rows();
    let mut c = runtime.block_on(clients(url));
    let pgbench = |calls| pgbench(url, calls);
    let selected: Vec<Measure> = Measure::ALL
        .into_iter()
        .filter(|m| {
            args.only.is_empty() || args.only.iter().any(|o| m.label().contains(o.as_str()))
        })
        .collect();
    // Warm-up: every statement prepared, every connection busy once.
    for &m in &selected {
        runtime.block_on(measure(m, &mut c, &rows, 200, &pgbench));
    }
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); selected.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); selected.len()];
    for round in 0..args.rounds {
        for i in 0..selected.len() {
            let k = (i + round) % selected.len();
            let (w, u) =
                runtime.block_on(measure(selected[k], &mut c, &rows, args.calls, &pgbench));
            wall[k].push(w);
            cpu[k].push(u);
        }
    }
    println!(
        "\n#### One call, {} calls x {} interleaved rounds (median of the rounds' means)",
        args.calls, args.rounds
    );
    println!("| measurement | wall µs/call | client CPU µs/call |");
    println!("|---|---|---|");
    for (k, m) in selected.iter().enumerate() {
        let w = median(&mut wall[k]);
        let u = median(&mut cpu[k]);
        let u = if u.is_nan() {
            "-".to_owned()
        } else {
            format!("{u:.1}")
        };
        println!("| {} | {w:.1} | {u} |", m.label());
    }
}
