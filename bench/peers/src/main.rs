//! atomic-upsert beside what its users compare it with, in one run on one server: the
//! derive's `upsert`, the same statement written by hand with sqlx 0.9 and with sqlx 0.8,
//! and Diesel's `on_conflict(..).do_update()`; each through its pool (with and without the
//! pool's check on checkout) and on a held connection, at 1 and 16 workers; then where one
//! call's time goes (`--profile`).
//!
//! ```text
//! cargo run --release --manifest-path bench/peers/Cargo.toml -- [--seconds 3] [--rounds 5]
//! cargo run --release --manifest-path bench/peers/Cargo.toml -- --profile [--calls 20000]
//! ```
//!
//! The server is a throwaway PostgreSQL with `fsync` on (`upsert_testkit::Dedicated::
//! start_durable`), the table the seed's `strava_stats` (text key, ~110-byte `jsonb`,
//! `timestamptz`) with 10,000 rows; every call updates a random existing one. Rounds are
//! interleaved (every strategy once per round, in a rotating order) and each figure is the
//! median over rounds, so drift on a shared machine hits every strategy alike.

use std::time::{Duration, Instant};

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{self, Connection as _, Row as _};
use clap::Parser;
use diesel::prelude::*;
use hdrhistogram::Histogram;
use sqlx08::Row as _;

/// The seed's `StravaStats`, as the derive writes it.
#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: sqlx::types::Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

/// The derive's statement written by hand (asserted equal to `StravaStats::UPSERT_SQL`).
const HAND_SQL: &str = r#"INSERT INTO "strava_stats" ("stats_type", "data", "updated_at") VALUES ($1, $2, now()) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data", "updated_at" = now() RETURNING (xmax = 0)"#;

const CREATE_TABLE: &str = "CREATE TABLE strava_stats (
    stats_type text PRIMARY KEY,
    data jsonb NOT NULL,
    updated_at timestamptz NOT NULL)";

diesel::table! {
    strava_stats (stats_type) {
        stats_type -> Text,
        data -> Jsonb,
        updated_at -> Timestamptz,
    }
}

const KEYS: usize = 10_000;

#[derive(Parser)]
#[command(about = "atomic-upsert beside hand-written sqlx 0.9, sqlx 0.8 and Diesel")]
struct Args {
    /// Seconds each strategy runs per round.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Interleaved rounds; figures are medians over them.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Worker counts to compare at.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    workers: Vec<usize>,
    /// Only these strategies (by label), e.g. `derive/conn,sqlx 0.9/conn`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where one call's time goes, instead of the throughput comparison.
    #[arg(long)]
    profile: bool,
    /// Calls per measurement and round in `--profile`.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
    /// A server without `fsync` (the tests' kind): a commit costs no disk flush, so the
    /// client's and the server's CPU time are what is left to compare.
    #[arg(long)]
    no_fsync: bool,
}

/// What runs one upsert, and through what.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    Derive,
    Sqlx09,
    Sqlx08,
    Diesel,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    /// Through the pool, with its default check on checkout (sqlx: `test_before_acquire`,
    /// r2d2: `test_on_check_out`).
    Pool,
    /// Through the pool, without that check.
    PoolUnchecked,
    /// On a connection each worker holds for the whole run.
    Conn,
}

#[derive(Clone, Copy, Debug)]
struct Strategy {
    lib: Lib,
    via: Via,
}

impl Strategy {
    fn all() -> Vec<Strategy> {
        let mut all = Vec::new();
        for lib in [Lib::Derive, Lib::Sqlx09, Lib::Sqlx08, Lib::Diesel] {
            for via in [Via::Pool, Via::PoolUnchecked, Via::Conn] {
                all.push(Strategy { lib, via });
            }
        }
        all
    }

    fn label(self) -> String {
        let lib = match self.lib {
            Lib::Derive => "derive",
            Lib::Sqlx09 => "sqlx 0.9",
            Lib::Sqlx08 => "sqlx 0.8",
            Lib::Diesel => "diesel",
        };
        let via = match (self.lib, self.via) {
            (_, Via::Conn) => "conn",
            (Lib::Diesel, Via::Pool) => "r2d2",
            (Lib::Diesel, Via::PoolUnchecked) => "r2d2 unchecked",
            (_, Via::Pool) => "pool",
            (_, Via::PoolUnchecked) => "pool unchecked",
        };
        format!("{lib}/{via}")
    }
}

/// The rows every strategy writes, built before any timing.
fn rows() -> Vec<StravaStats> {
    // ~110 bytes of jsonb, as in the seed's stats.
    (0..KEYS)
        .map(|i| StravaStats {
            stats_type: format!("key-{i}"),
            data: sqlx::types::Json(serde_json::json!({
                "count": i, "distance": 1234.5, "moving_time": 3600,
                "elevation_gain": 12.5, "achievement_count": 3, "kind": "ride"
            })),
            updated_at: (),
        })
        .collect()
}

/// Everything a strategy may run through: each library's pool with its check on checkout
/// (`[0]`) and without (`[1]`).
struct Pools {
    sqlx09: [sqlx::PgPool; 2],
    sqlx08: [sqlx08::PgPool; 2],
    diesel: [diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<PgConnection>>; 2],
}

async fn pools(url: &str, size: u32) -> Pools {
    let p09 = |test| {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(size)
            .min_connections(size)
            .test_before_acquire(test)
            .connect(url)
    };
    let p08 = |test| {
        sqlx08::postgres::PgPoolOptions::new()
            .max_connections(size)
            .min_connections(size)
            .test_before_acquire(test)
            .connect(url)
    };
    let pd = |test| {
        diesel::r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(size))
            .test_on_check_out(test)
            .build(diesel::r2d2::ConnectionManager::<PgConnection>::new(url))
            .expect("r2d2 pool")
    };
    Pools {
        sqlx09: [
            p09(true).await.expect("pool"),
            p09(false).await.expect("pool"),
        ],
        sqlx08: [
            p08(true).await.expect("pool"),
            p08(false).await.expect("pool"),
        ],
        diesel: [pd(true), pd(false)],
    }
}

fn pool_index(via: Via) -> usize {
    usize::from(via == Via::PoolUnchecked)
}

/// xorshift64*: the key each call writes.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        usize::try_from(x % n as u64).expect("below n")
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

/// One call of an async strategy on a held connection of either sqlx.
enum Held {
    V09(sqlx::pool::PoolConnection<sqlx::Postgres>),
    V08(sqlx08::pool::PoolConnection<sqlx08::Postgres>),
}

async fn call_async(
    strategy: Strategy,
    pools: &Pools,
    held: Option<&mut Held>,
    row: &StravaStats,
) -> bool {
    let key = &row.stats_type;
    let data = &row.data;
    match (strategy.lib, held) {
        (Lib::Derive, None) => {
            let pool = &pools.sqlx09[pool_index(strategy.via)];
            row.upsert(pool).await.expect("derive upsert").is_inserted()
        }
        (Lib::Derive, Some(Held::V09(conn))) => row
            .upsert(&mut **conn)
            .await
            .expect("derive upsert")
            .is_inserted(),
        (Lib::Sqlx09, None) => {
            let pool = &pools.sqlx09[pool_index(strategy.via)];
            sqlx::query(HAND_SQL)
                .bind(key)
                .bind(data)
                .fetch_one(pool)
                .await
                .expect("sqlx 0.9 upsert")
                .get::<bool, _>(0)
        }
        (Lib::Sqlx09, Some(Held::V09(conn))) => sqlx::query(HAND_SQL)
            .bind(key)
            .bind(data)
            .fetch_one(&mut **conn)
            .await
            .expect("sqlx 0.9 upsert")
            .get::<bool, _>(0),
        (Lib::Sqlx08, None) => {
            let pool = &pools.sqlx08[pool_index(strategy.via)];
            sqlx08::query(HAND_SQL)
                .bind(key)
                .bind(sqlx08::types::Json(&data.0))
                .fetch_one(pool)
                .await
                .expect("sqlx 0.8 upsert")
                .get::<bool, _>(0)
        }
        (Lib::Sqlx08, Some(Held::V08(conn))) => sqlx08::query(HAND_SQL)
            .bind(key)
            .bind(sqlx08::types::Json(&data.0))
            .fetch_one(&mut **conn)
            .await
            .expect("sqlx 0.8 upsert")
            .get::<bool, _>(0),
        _ => unreachable!("Diesel runs on threads"),
    }
}

/// Diesel's upsert of `row`, as its guide writes it.
fn diesel_upsert(conn: &mut PgConnection, row: &StravaStats) -> usize {
    use diesel::upsert::excluded;
    use strava_stats::dsl;
    diesel::insert_into(dsl::strava_stats)
        .values((
            dsl::stats_type.eq(&row.stats_type),
            dsl::data.eq(&row.data.0),
            dsl::updated_at.eq(diesel::dsl::now),
        ))
        .on_conflict(dsl::stats_type)
        .do_update()
        .set((
            dsl::data.eq(excluded(dsl::data)),
            dsl::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .expect("diesel upsert")
}

/// What one strategy did in one round.
struct Cell {
    ops: u64,
    secs: f64,
    latency: Histogram<u64>,
}

async fn run_cell(
    strategy: Strategy,
    workers: usize,
    seconds: f64,
    pools: &std::sync::Arc<Pools>,
    rows: &std::sync::Arc<Vec<StravaStats>>,
) -> Cell {
    let run_for = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let results: Vec<(u64, Histogram<u64>)> = if strategy.lib == Lib::Diesel {
        let mut threads = Vec::new();
        for w in 0..workers {
            let pools = std::sync::Arc::clone(pools);
            let rows = std::sync::Arc::clone(rows);
            threads.push(std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                let mut hist = new_histogram();
                let mut ops = 0;
                let pool = &pools.diesel[pool_index(strategy.via)];
                let mut held = (strategy.via == Via::Conn)
                    .then(|| pools.diesel[1].get().expect("r2d2 checkout"));
                let deadline = Instant::now() + run_for;
                while Instant::now() < deadline {
                    let row = &rows[rng.below(KEYS)];
                    let t = Instant::now();
                    match held.as_mut() {
                        Some(conn) => diesel_upsert(&mut *conn, row),
                        None => diesel_upsert(&mut pool.get().expect("r2d2 checkout"), row),
                    };
                    record(&mut hist, t);
                    ops += 1;
                }
                (ops, hist)
            }));
        }
        threads
            .into_iter()
            .map(|t| t.join().expect("worker"))
            .collect()
    } else {
        let mut tasks = Vec::new();
        for w in 0..workers {
            let pools = std::sync::Arc::clone(pools);
            let rows = std::sync::Arc::clone(rows);
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                let mut hist = new_histogram();
                let mut ops = 0;
                let mut held = match (strategy.via, strategy.lib) {
                    (Via::Conn, Lib::Sqlx08) => Some(Held::V08(
                        pools.sqlx08[1].acquire().await.expect("checkout"),
                    )),
                    (Via::Conn, _) => Some(Held::V09(
                        pools.sqlx09[1].acquire().await.expect("checkout"),
                    )),
                    _ => None,
                };
                let deadline = Instant::now() + run_for;
                while Instant::now() < deadline {
                    let row = &rows[rng.below(KEYS)];
                    let t = Instant::now();
                    std::hint::black_box(call_async(strategy, &pools, held.as_mut(), row).await);
                    record(&mut hist, t);
                    ops += 1;
                }
                (ops, hist)
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("worker"));
        }
        results
    };
    let secs = started.elapsed().as_secs_f64();
    let mut latency = new_histogram();
    let mut ops = 0;
    for (n, hist) in results {
        ops += n;
        latency.add(hist).expect("same bounds");
    }
    Cell { ops, secs, latency }
}

fn record(hist: &mut Histogram<u64>, since: Instant) {
    let micros = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
    hist.saturating_record(micros.max(1));
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

async fn setup(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connects");
    sqlx::raw_sql("DROP TABLE IF EXISTS strava_stats")
        .execute(&mut conn)
        .await
        .expect("drops the table");
    sqlx::raw_sql(CREATE_TABLE)
        .execute(&mut conn)
        .await
        .expect("creates the table");
    let rows = rows();
    for chunk in rows.chunks(1000) {
        StravaStats::upsert_many(&mut conn, chunk)
            .await
            .expect("fills the table");
    }
    sqlx::raw_sql("VACUUM ANALYZE strava_stats")
        .execute(&mut conn)
        .await
        .expect("vacuum");
}

fn sqlx_versions() -> String {
    // The lock decides which 0.9.x this build has; Cargo sets no variable for it, so the
    // binary says what its `Cargo.lock` holds.
    let lock = include_str!("../Cargo.lock");
    let mut found: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains("name = \"sqlx-core\""))
        .filter_map(|p| p.lines().find(|l| l.starts_with("version = ")))
        .map(|l| l.trim_start_matches("version = ").trim_matches('"'))
        .collect();
    found.sort_unstable();
    found.join(", ")
}

fn main() {
    let args = Args::parse();
    assert_eq!(
        HAND_SQL,
        StravaStats::UPSERT_SQL,
        "hand-written SQL is the derive's"
    );
    let server = if args.no_fsync {
        upsert_testkit::Dedicated::start()
    } else {
        upsert_testkit::Dedicated::start_durable()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(setup(&server.url));
    println!(
        "server: throwaway PostgreSQL, fsync {}; sqlx-core versions in this build: {}",
        if args.no_fsync { "off" } else { "on" },
        sqlx_versions()
    );
    if args.profile {
        drop(runtime);
        profile::run(&args, &server.url);
    } else {
        runtime.block_on(compare(&args, &server.url));
    }
}

/// Every strategy at every worker count, interleaved rounds, one table per worker count.
async fn compare(args: &Args, url: &str) {
    let rows = std::sync::Arc::new(rows());
    let strategies: Vec<Strategy> = Strategy::all()
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.contains(&s.label()))
        .collect();
    for &workers in &args.workers {
        let size = u32::try_from(workers).expect("workers fit u32");
        let pools = std::sync::Arc::new(pools(url, size).await);
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); strategies.len()];
        let mut latency: Vec<Histogram<u64>> = strategies.iter().map(|_| new_histogram()).collect();
        // Warm-up: every strategy once, short, not counted.
        for &s in &strategies {
            run_cell(s, workers, 0.3, &pools, &rows).await;
        }
        for round in 0..args.rounds {
            for i in 0..strategies.len() {
                let k = (i + round) % strategies.len();
                let cell = run_cell(strategies[k], workers, args.seconds, &pools, &rows).await;
                #[allow(clippy::cast_precision_loss)]
                rates[k].push(cell.ops as f64 / cell.secs);
                latency[k].add(&cell.latency).expect("same bounds");
            }
        }
        println!(
            "\n#### {workers} worker(s), {} rounds x {} s, median ops/s",
            args.rounds, args.seconds
        );
        println!("| strategy | ops/s | vs derive/conn | p50 µs | p99 µs | p99.9 µs | max µs |");
        println!("|---|---|---|---|---|---|---|");
        let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
        let base = strategies
            .iter()
            .position(|s| s.lib == Lib::Derive && s.via == Via::Conn)
            .map_or(medians[0], |i| medians[i]);
        for (k, s) in strategies.iter().enumerate() {
            let h = &latency[k];
            println!(
                "| {} | {:.0} | {:.3} | {} | {} | {} | {} |",
                s.label(),
                medians[k],
                medians[k] / base,
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max()
            );
        }
    }
}

mod profile;
