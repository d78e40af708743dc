//! MariaDB figures for PERFORMANCE.md: the derive against the hand-written
//! `INSERT .. ON DUPLICATE KEY UPDATE` and the naive pattern, on one throwaway server, in
//! the same run, as medians of interleaved rounds.
//!
//! `cargo bench --manifest-path tests/mysql/Cargo.toml --target-dir target/mysql --bench mysql [-- ROUNDS]`
//!
//! Each round runs each way for 1 s on 1 connection (sequential, 10,000 existing keys) and
//! on 16 connections (8 hot existing keys), every way on its own table.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atomic_upsert::AtomicUpsert;
use sqlx::Executor as _;
use sqlx::mysql::MySqlPool;
use upsert_testkit::mysql::MyDb;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "stats")]
struct Stats {
    #[conflict_key]
    stats_type: String,
    data: String,
    #[upsert(add)]
    runs: i64,
}

const SCHEMA: &str = "CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY, \
    data varchar(200) NOT NULL, runs bigint NOT NULL)";
const HAND: &str = "INSERT INTO stats (stats_type, data, runs) VALUES (?, ?, ?) \
    ON DUPLICATE KEY UPDATE data = VALUES(data), runs = runs + VALUES(runs)";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Derive,
    Hand,
    Naive,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Derive => "#[derive(AtomicUpsert)] upsert",
            Way::Hand => "hand-written ON DUPLICATE KEY UPDATE",
            Way::Naive => "naive SELECT then INSERT/UPDATE",
        }
    }
}

/// One operation of `way` on `key`; `Err` for a failed call.
async fn op(way: Way, pool: &MySqlPool, key: &str) -> Result<(), sqlx::Error> {
    match way {
        Way::Derive => {
            let row = Stats {
                stats_type: key.to_owned(),
                data: "x".repeat(100),
                runs: 1,
            };
            row.upsert(pool)
                .await
                .map(drop)
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))
        }
        Way::Hand => sqlx::query(HAND)
            .bind(key)
            .bind("x".repeat(100))
            .bind(1_i64)
            .execute(pool)
            .await
            .map(drop),
        Way::Naive => {
            let mut conn = pool.acquire().await?;
            let found: Option<i64> =
                sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = ?")
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await?;
            let statement = if found.is_some() {
                "UPDATE stats SET data = ?, runs = runs + 1 WHERE stats_type = ?"
            } else {
                "INSERT INTO stats (data, stats_type, runs) VALUES (?, ?, 1)"
            };
            sqlx::query(statement)
                .bind("x".repeat(100))
                .bind(key)
                .execute(&mut *conn)
                .await
                .map(drop)
        }
    }
}

/// Operations per second and errors of `way` on `workers` connections over `keys` keys.
async fn cell(way: Way, pool: &MySqlPool, workers: usize, keys: u64) -> (f64, u64) {
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (pool, done, failed) = (pool.clone(), Arc::clone(&done), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            let mut n = worker as u64;
            while Instant::now() < deadline {
                n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let key = format!("key-{}", (n >> 33) % keys);
                if op(way, &pool, &key).await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("a worker panicked");
    }
    (
        done.load(Ordering::Relaxed) as f64,
        failed.load(Ordering::Relaxed),
    )
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let ways = [Way::Derive, Way::Hand, Way::Naive];
    for (workers, keys, what) in [
        (
            1,
            10_000_u64,
            "sequential: 1 connection, 10,000 existing keys",
        ),
        (16, 8, "concurrent: 16 connections, 8 hot existing keys"),
    ] {
        let mut pools = Vec::new();
        for _ in ways {
            let db = MyDb::new(u32::try_from(workers).unwrap_or(16)).await;
            db.pool.execute(SCHEMA).await.unwrap();
            for key in 0..keys {
                op(Way::Hand, &db.pool, &format!("key-{key}"))
                    .await
                    .unwrap();
            }
            pools.push(db);
        }
        let mut rates = vec![Vec::new(); ways.len()];
        let mut errors = vec![0_u64; ways.len()];
        for _ in 0..rounds {
            for (i, way) in ways.iter().enumerate() {
                let (rate, failed) = cell(*way, &pools[i].pool, workers, keys).await;
                rates[i].push(rate);
                errors[i] += failed;
            }
        }
        let hand = median(&mut rates[1].clone());
        println!("\n{what}: median of {rounds} interleaved rounds of 1 s\n");
        println!("| way | ops/s | (min–max) | vs hand-written | errors |");
        println!("|---|---|---|---|---|");
        for (i, way) in ways.iter().enumerate() {
            let mut values = rates[i].clone();
            let m = median(&mut values);
            println!(
                "| {} | {m:.0} | {:.0}–{:.0} | {:.2}x | {} |",
                way.name(),
                values[0],
                values[values.len() - 1],
                m / hand,
                errors[i]
            );
        }
    }
}
