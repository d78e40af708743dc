//! Bulk upsert benchmark against a real PostgreSQL (`DATABASE_URL`, or a throwaway server).
//!
//! `cargo bench --bench bulk` (add `-- --quick` for 10k rows only, `-- --memory` for the
//! 1,000,000-row memory check). For 10k and 100k three-column rows it times, in the same
//! process and interleaved round by round, the insert of new keys and the update of the
//! same keys by:
//!
//! - row-by-row `upsert` (one statement per row, in one transaction);
//! - multi-row `VALUES` (hand-built, chunked under the 65,535-parameter limit);
//! - hand-written `UNNEST` upsert (`sqlx::query` with three arrays);
//! - hand-written `COPY` (text format) into a temp table + `INSERT .. SELECT .. ON CONFLICT`;
//! - `upsert_many` on its `UNNEST` path, its `COPY` path, and `Auto`.
//!
//! Medians of the rounds are reported, with ratios against hand-written COPY.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, BulkPath};

#[derive(AtomicUpsert, Clone)]
struct Row {
    #[conflict_key]
    id: i64,
    name: String,
    qty: i32,
}

const HAND_UPSERT_FROM_STAGE: &str = "INSERT INTO row (id, name, qty) SELECT id, name, qty FROM stage \
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Strategy {
    RowByRow,
    MultiValues,
    HandUnnest,
    HandCopy,
    OursUnnest,
    OursCopy,
    OursAuto,
}

impl Strategy {
    const ALL: [Strategy; 7] = [
        Strategy::RowByRow,
        Strategy::MultiValues,
        Strategy::HandUnnest,
        Strategy::HandCopy,
        Strategy::OursUnnest,
        Strategy::OursCopy,
        Strategy::OursAuto,
    ];

    fn label(self) -> &'static str {
        match self {
            Strategy::RowByRow => "row-by-row upsert",
            Strategy::MultiValues => "multi-row VALUES (hand-built)",
            Strategy::HandUnnest => "hand-written UNNEST",
            Strategy::HandCopy => "hand-written COPY + INSERT..SELECT",
            Strategy::OursUnnest => "upsert_many (UNNEST path)",
            Strategy::OursCopy => "upsert_many (COPY path)",
            Strategy::OursAuto => "upsert_many (Auto)",
        }
    }
}

async fn run(
    pool: &PgPool,
    strategy: Strategy,
    rows: &[Row],
) -> Result<(), Box<dyn std::error::Error>> {
    match strategy {
        Strategy::RowByRow => {
            let mut tx = pool.begin().await?;
            for row in rows {
                row.upsert(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Strategy::MultiValues => {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(65_535 / 3) {
                let mut sql = String::from("INSERT INTO row (id, name, qty) VALUES ");
                for i in 0..chunk.len() {
                    let _ = write!(
                        sql,
                        "{}(${}, ${}, ${})",
                        if i > 0 { "," } else { "" },
                        3 * i + 1,
                        3 * i + 2,
                        3 * i + 3
                    );
                }
                sql.push_str(
                    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty",
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    query = query.bind(row.id).bind(&row.name).bind(row.qty);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Strategy::HandUnnest => {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            let qtys: Vec<i32> = rows.iter().map(|r| r.qty).collect();
            sqlx::query(
                "INSERT INTO row (id, name, qty) SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int4[]) \
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty",
            )
            .bind(ids)
            .bind(names)
            .bind(qtys)
            .execute(pool)
            .await?;
        }
        Strategy::HandCopy => {
            let mut tx = pool.begin().await?;
            sqlx::raw_sql("CREATE TEMP TABLE stage (id int8, name text, qty int4) ON COMMIT DROP")
                .execute(&mut *tx)
                .await?;
            let mut copy = tx
                .copy_in_raw("COPY stage (id, name, qty) FROM STDIN")
                .await?;
            let mut text = String::with_capacity(1 << 20);
            for row in rows {
                // Names in this benchmark need no escaping.
                let _ = writeln!(text, "{}\t{}\t{}", row.id, row.name, row.qty);
                if text.len() >= 1 << 20 {
                    copy.send(std::mem::take(&mut text).into_bytes()).await?;
                }
            }
            copy.send(text.into_bytes()).await?;
            copy.finish().await?;
            sqlx::raw_sql(HAND_UPSERT_FROM_STAGE)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Strategy::OursUnnest => drop(Row::upsert_many_via(pool, rows, BulkPath::Unnest).await?),
        Strategy::OursCopy => drop(Row::upsert_many_via(pool, rows, BulkPath::Copy).await?),
        Strategy::OursAuto => drop(Row::upsert_many(pool, rows).await?),
    }
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn rows(n: i64, version: i32) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: i,
            name: format!("name-{i}-{version}"),
            qty: version,
        })
        .collect()
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// KiB to MiB, for display (process sizes are far below 2^52 KiB).
#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn memory_check(pool: &PgPool) -> Result<(), Box<dyn std::error::Error>> {
    sqlx::raw_sql("TRUNCATE row").execute(pool).await?;
    let before_input = status_kib("VmRSS:");
    let input = rows(1_000_000, 1);
    let with_input = status_kib("VmRSS:");
    let started = Instant::now();
    let outcome = Row::upsert_many(pool, &input).await?;
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");
    println!("\n## Memory: 1,000,000 three-column rows through upsert_many (Auto = COPY path)\n");
    println!("| input (RSS growth while building it) | peak RSS above input | time | outcome |");
    println!("|---|---|---|---|");
    println!(
        "| {:.1} MiB | {:.1} MiB | {:.2} s | {} inserted |",
        mib(with_input - before_input),
        mib(peak.saturating_sub(with_input)),
        elapsed.as_secs_f64(),
        outcome.inserted
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let memory = args.iter().any(|a| a == "--memory");
    let server = upsert_testkit::server();
    let db = upsert_testkit::TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE row (id int8 PRIMARY KEY, name text NOT NULL, qty int4 NOT NULL)")
        .execute(&db.pool)
        .await?;
    println!(
        "# Bulk upserts ({}; PostgreSQL via {})\n",
        if quick { "quick" } else { "full" },
        if server.throwaway {
            "a throwaway server: fsync=off, synchronous_commit=off"
        } else {
            "DATABASE_URL"
        }
    );
    let sizes: &[(i64, usize)] = if quick {
        &[(10_000, 3)]
    } else {
        &[(10_000, 7), (100_000, 5)]
    };
    for &(n, rounds) in sizes {
        let fresh = rows(n, 1);
        let update = rows(n, 2);
        let mut insert_times = vec![Vec::new(); Strategy::ALL.len()];
        let mut update_times = vec![Vec::new(); Strategy::ALL.len()];
        for round in 0..rounds {
            // Rotate the starting strategy each round so none always runs first.
            for k in 0..Strategy::ALL.len() {
                let s = (k + round) % Strategy::ALL.len();
                let strategy = Strategy::ALL[s];
                sqlx::raw_sql("TRUNCATE row").execute(&db.pool).await?;
                let started = Instant::now();
                run(&db.pool, strategy, &fresh).await?;
                insert_times[s].push(started.elapsed());
                let started = Instant::now();
                run(&db.pool, strategy, &update).await?;
                update_times[s].push(started.elapsed());
            }
            eprint!(".");
        }
        eprintln!();
        let hand_copy = Strategy::ALL
            .iter()
            .position(|s| *s == Strategy::HandCopy)
            .unwrap_or(0);
        let base_insert = median(insert_times[hand_copy].clone());
        let base_update = median(update_times[hand_copy].clone());
        println!("## {n} rows, median of {rounds} interleaved rounds\n");
        println!("| strategy | insert | update | insert vs hand COPY | update vs hand COPY |");
        println!("|---|---|---|---|---|");
        for (s, strategy) in Strategy::ALL.iter().enumerate() {
            let insert = median(insert_times[s].clone());
            let update = median(update_times[s].clone());
            println!(
                "| {} | {:.1} ms | {:.1} ms | {:.2}x | {:.2}x |",
                strategy.label(),
                insert.as_secs_f64() * 1e3,
                update.as_secs_f64() * 1e3,
                insert.as_secs_f64() / base_insert.as_secs_f64(),
                update.as_secs_f64() / base_update.as_secs_f64()
            );
        }
        println!();
    }
    if memory {
        memory_check(&db.pool).await?;
    }
    db.finish().await;
    Ok(())
}
