//! SQLite figures for PERFORMANCE.md: the derive against hand-written sqlx on the same
//! database file, in the same run, as medians of interleaved rounds.
//!
//! `cargo bench --manifest-path tests/sqlite/Cargo.toml --target-dir target/sqlite --bench sqlite [-- ROUNDS]`
//!
//! The database is a file in the temporary directory, WAL journal, `synchronous = NORMAL`
//! (the usual production setting: a commit is durable at the next checkpoint, not fsynced
//! one by one), busy timeout 30 s.

use std::time::{Duration, Instant};

use atomic_upsert::AtomicUpsert;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "stats")]
struct Stats {
    #[conflict_key]
    stats_type: String,
    data: String,
    #[upsert(add)]
    runs: i64,
}

const SCHEMA: &str = "DROP TABLE IF EXISTS stats; \
    CREATE TABLE stats (stats_type TEXT PRIMARY KEY, data TEXT NOT NULL, runs INTEGER NOT NULL)";
const HAND_UPSERT: &str = "INSERT INTO stats (stats_type, data, runs) VALUES (?1, ?2, ?3) \
    ON CONFLICT (stats_type) DO UPDATE SET data = excluded.data, runs = stats.runs + excluded.runs";

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
            Way::Hand => "hand-written INSERT .. ON CONFLICT",
            Way::Naive => "naive SELECT then INSERT/UPDATE",
        }
    }
}

async fn pool(path: &std::path::Path, connections: u32) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .connect_with(options)
        .await
        .unwrap()
}

fn row(key: usize, n: usize) -> Stats {
    Stats {
        stats_type: format!("key-{key}"),
        data: format!("{{\"km\":{n},\"rides\":{}}}", n % 17),
        runs: 1,
    }
}

/// One call of `way`; `Err` is a failed call (the naive pattern's duplicate key).
async fn call(way: Way, pool: &SqlitePool, stats: &Stats) -> Result<(), String> {
    match way {
        Way::Derive => stats
            .upsert(pool)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Way::Hand => sqlx::query(HAND_UPSERT)
            .bind(&stats.stats_type)
            .bind(&stats.data)
            .bind(stats.runs)
            .execute(pool)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Way::Naive => {
            let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
            let found: Option<i64> =
                sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = ?1")
                    .bind(&stats.stats_type)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())?;
            let sql = if found.is_some() {
                "UPDATE stats SET data = ?2, runs = runs + ?3 WHERE stats_type = ?1"
            } else {
                "INSERT INTO stats (stats_type, data, runs) VALUES (?1, ?2, ?3)"
            };
            sqlx::query(sql)
                .bind(&stats.stats_type)
                .bind(&stats.data)
                .bind(stats.runs)
                .execute(&mut *conn)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

/// What one round of a workload gave.
#[derive(Clone, Copy, Default)]
struct Round {
    seconds: f64,
    ops: usize,
    failed: usize,
    lost: i64,
    p99_us: u128,
}

/// `workers` tasks, each making `ops` calls on keys `key(worker, i)`, after `existing` keys
/// were stored; then the sum of `runs` says how many increments were lost.
async fn round(
    pool: &SqlitePool,
    way: Way,
    workers: usize,
    ops: usize,
    existing: usize,
    key: fn(usize, usize) -> usize,
) -> Round {
    sqlx::raw_sql(SCHEMA).execute(pool).await.unwrap();
    let seed: Vec<Stats> = (0..existing)
        .map(|k| Stats {
            runs: 0,
            ..row(k, 0)
        })
        .collect();
    Stats::upsert_many(pool, &seed).await.unwrap();
    let started = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..workers {
        let pool = pool.clone();
        handles.push(tokio::spawn(async move {
            let (mut failed, mut latencies) = (0, Vec::with_capacity(ops));
            for i in 0..ops {
                let stats = row(key(worker, i), i);
                let at = Instant::now();
                if call(way, &pool, &stats).await.is_err() {
                    failed += 1;
                }
                latencies.push(at.elapsed().as_micros());
            }
            (failed, latencies)
        }));
    }
    let (mut failed, mut latencies) = (0, Vec::new());
    for handle in handles {
        let (f, l) = handle.await.unwrap();
        failed += f;
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let sum: i64 = sqlx::query_scalar("SELECT coalesce(sum(runs), 0) FROM stats")
        .fetch_one(pool)
        .await
        .unwrap();
    let ops_total = workers * ops;
    Round {
        seconds,
        ops: ops_total,
        failed,
        lost: ops_total as i64 - sum,
        p99_us: latencies[latencies.len() * 99 / 100],
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Workload {
    name: &'static str,
    workers: usize,
    ops: usize,
    existing: usize,
    key: fn(usize, usize) -> usize,
    ways: &'static [Way],
}

async fn single_row(path: &std::path::Path, rounds: usize) {
    let workloads = [
        Workload {
            name: "sequential — 1 worker, 2,000 calls over 1,000 existing keys",
            workers: 1,
            ops: 2000,
            existing: 1000,
            key: |_, i| (i * 7919) % 1000,
            ways: &[Way::Derive, Way::Hand],
        },
        Workload {
            name: "counter — 8 workers × 500 calls on 8 hot existing counters (+1 each)",
            workers: 8,
            ops: 500,
            existing: 8,
            key: |w, i| (w + i) % 8,
            ways: &[Way::Derive, Way::Hand, Way::Naive],
        },
        Workload {
            name: "race — 8 workers × 500 calls, fresh keys, each key written by all 8 workers",
            workers: 8,
            ops: 500,
            existing: 0,
            key: |_, i| i,
            ways: &[Way::Derive, Way::Hand, Way::Naive],
        },
    ];
    for workload in workloads {
        let pool = pool(path, workload.workers as u32).await;
        let mut results: Vec<Vec<Round>> = vec![Vec::new(); workload.ways.len()];
        for _ in 0..rounds {
            for (i, way) in workload.ways.iter().enumerate() {
                let r = round(
                    &pool,
                    *way,
                    workload.workers,
                    workload.ops,
                    workload.existing,
                    workload.key,
                )
                .await;
                results[i].push(r);
            }
        }
        println!(
            "\n#### {} (median of {rounds} interleaved rounds)\n",
            workload.name
        );
        println!(
            "| strategy | calls/s | p99 µs | failed calls | lost increments | vs hand-written |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        let rate =
            |rounds: &[Round]| median(rounds.iter().map(|r| r.ops as f64 / r.seconds).collect());
        let hand = rate(&results[1]);
        for (i, way) in workload.ways.iter().enumerate() {
            let rs = &results[i];
            let failed: usize = rs.iter().map(|r| r.failed).sum();
            let lost: i64 = rs.iter().map(|r| r.lost).sum();
            let ops: usize = rs.iter().map(|r| r.ops).sum();
            let p99 = median(rs.iter().map(|r| r.p99_us as f64).collect());
            println!(
                "| {} | {:.0} | {:.0} | {failed} of {ops} | {lost} of {ops} | {:.2}x |",
                way.name(),
                rate(rs),
                p99,
                rate(rs) / hand
            );
        }
        pool.close().await;
    }
}

/// `upsert_many` against the two ways people write a SQLite batch by hand, all in one
/// transaction: the single-row upsert once per row, and multi-row `VALUES` in chunks.
async fn batches(path: &std::path::Path, rounds: usize, rows: usize) {
    let pool = pool(path, 1).await;
    let batch: Vec<Stats> = (0..rows).map(|i| row((i * 7919) % rows, i)).collect();
    let names = [
        "`upsert_many` (chunks of 128, with inserted/updated counts)",
        "hand-written: one upsert per row, one transaction",
        "hand-written: multi-row VALUES, 128 rows a statement, one transaction",
        "hand-written: the same, plus a count of stored keys per chunk (the counts `upsert_many` gives)",
    ];
    let mut times = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        for (way, times) in times.iter_mut().enumerate() {
            sqlx::raw_sql(SCHEMA).execute(&pool).await.unwrap();
            // Half the keys exist: the batch inserts half and updates half.
            let half: Vec<Stats> = batch.iter().step_by(2).cloned().collect();
            Stats::upsert_many(&pool, &half).await.unwrap();
            let started = Instant::now();
            match way {
                0 => {
                    Stats::upsert_many(&pool, &batch).await.unwrap();
                }
                1 => {
                    let mut tx = pool.begin().await.unwrap();
                    for stats in &batch {
                        sqlx::query(HAND_UPSERT)
                            .bind(&stats.stats_type)
                            .bind(&stats.data)
                            .bind(stats.runs)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                }
                _ => {
                    // SQLite applies a multi-row upsert row after row, so repeated keys
                    // need no dedup here either.
                    let mut tx = pool.begin().await.unwrap();
                    let mut stored = 0_i64;
                    for chunk in batch.chunks(128) {
                        if way == 3 {
                            let mut count = sqlx::QueryBuilder::new(
                                "SELECT count(*) FROM stats WHERE stats_type IN (",
                            );
                            let mut keys = count.separated(", ");
                            for s in chunk {
                                keys.push_bind(&s.stats_type);
                            }
                            count.push(")");
                            let n: i64 = count
                                .build_query_scalar()
                                .fetch_one(&mut *tx)
                                .await
                                .unwrap();
                            stored += n;
                        }
                        let mut builder =
                            sqlx::QueryBuilder::new("INSERT INTO stats (stats_type, data, runs) ");
                        builder.push_values(chunk, |mut b, s| {
                            b.push_bind(&s.stats_type)
                                .push_bind(&s.data)
                                .push_bind(s.runs);
                        });
                        builder.push(
                            " ON CONFLICT (stats_type) DO UPDATE SET data = excluded.data, runs = stats.runs + excluded.runs",
                        );
                        builder.build().execute(&mut *tx).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                    assert!(way == 2 || stored > 0);
                }
            }
            times.push(started.elapsed().as_secs_f64());
            let sum: i64 = sqlx::query_scalar("SELECT sum(runs) FROM stats")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(
                sum as usize,
                rows + rows.div_ceil(2),
                "every strategy writes the same"
            );
        }
    }
    println!(
        "\n#### bulk — {rows} rows (half stored already), median of {rounds} interleaved rounds\n"
    );
    println!("| strategy | seconds | rows/s | vs `upsert_many` |");
    println!("|---|---:|---:|---:|");
    let ours = median(times[0].clone());
    for (name, times) in names.iter().zip(times) {
        let t = median(times);
        println!(
            "| {name} | {t:.4} | {:.0} | {:.2}x |",
            rows as f64 / t,
            t / ours
        );
    }
    pool.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let path = std::env::temp_dir().join(format!("atomic-upsert-bench-{}.db", std::process::id()));
    println!(
        "SQLite {} (sqlx bundled), WAL, synchronous=NORMAL, file {}",
        sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
            .fetch_one(&pool(&path, 1).await)
            .await
            .unwrap(),
        path.display()
    );
    single_row(&path, rounds).await;
    for rows in [10_000, 100_000] {
        batches(&path, rounds, rows).await;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
