//! What telling inserts from updates costs on a partitioned table, against the ordinary
//! statement, in one run on one server (the machines are shared: ratios of interleaved
//! rounds, not absolute rates, are the result).
//!
//! Three ways to upsert the same rows:
//! - `plain`: an ordinary table, `RETURNING (xmax = 0)` (what every unpartitioned struct
//!   sends);
//! - `plain+flag`: the same ordinary table through a `#[upsert(partitioned)]` struct: the
//!   flag's own cost (the marker on PostgreSQL 15-17, `RETURNING old` on 18);
//! - `parted`: a table hash-partitioned 4 ways through the `partitioned` struct: what a user
//!   of a partitioned table gets (the flag plus PostgreSQL's partition routing).
//!
//! Each round runs every way in a rotated order: single-row updates on a held connection
//! (latency-bound, `--ops` calls), then `upsert_many` updating `--rows` rows (UNNEST).
//! Medians over `--rounds` of each way's rate and of its ratio to `plain` in that round.
//!
//! `cargo bench -p atomic-upsert-bench --bench partitioned` (the server of
//! `upsert_testkit::server`: `DATABASE_URL`, or a throwaway one from `ATOMIC_UPSERT_PG_BIN`
//! or the system's binaries).

use std::time::Instant;

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath};
use clap::Parser;
use upsert_testkit::TestDb;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "plain")]
struct Plain {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    #[upsert(add)]
    hits: i64,
    note: String,
}

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "plain", partitioned)]
struct PlainFlagged {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    #[upsert(add)]
    hits: i64,
    note: String,
}

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "parted", partitioned)]
struct Parted {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    #[upsert(add)]
    hits: i64,
    note: String,
}

/// The cost of the partitioned statements against the ordinary one.
#[derive(Parser, Debug)]
struct Args {
    /// Interleaved rounds; medians are over these.
    #[arg(long, default_value_t = 15)]
    rounds: usize,
    /// Single-row calls per way and round.
    #[arg(long, default_value_t = 2_000)]
    ops: i64,
    /// Rows of each way's `upsert_many` per round.
    #[arg(long, default_value_t = 10_000)]
    rows: i64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const WAYS: [&str; 3] = ["plain", "plain+flag", "parted"];

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE plain (id int8, part int4, hits int8 NOT NULL, note text NOT NULL, \
             PRIMARY KEY (id, part)); \
         CREATE TABLE parted (id int8, part int4, hits int8 NOT NULL, note text NOT NULL, \
             PRIMARY KEY (id, part)) PARTITION BY HASH (id); \
         CREATE TABLE parted_0 PARTITION OF parted FOR VALUES WITH (MODULUS 4, REMAINDER 0); \
         CREATE TABLE parted_1 PARTITION OF parted FOR VALUES WITH (MODULUS 4, REMAINDER 1); \
         CREATE TABLE parted_2 PARTITION OF parted FOR VALUES WITH (MODULUS 4, REMAINDER 2); \
         CREATE TABLE parted_3 PARTITION OF parted FOR VALUES WITH (MODULUS 4, REMAINDER 3)",
    )
    .execute(&db.pool)
    .await
    .expect("the tables");
    let keys = args.ops.max(args.rows);
    let rows = |n: i64| -> Vec<Plain> {
        (0..n)
            .map(|id| Plain {
                id,
                part: i32::try_from(id % 7).expect("small"),
                hits: 1,
                note: format!("note {id}"),
            })
            .collect()
    };
    // Every key stored first: each call below is an update.
    let seed = rows(keys);
    Plain::upsert_many(&db.pool, &seed)
        .await
        .expect("seed plain");
    Parted::upsert_many(&db.pool, &as_parted(&seed))
        .await
        .expect("seed parted");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *conn)
        .await
        .expect("version");
    let batch = rows(args.rows);
    let singles = rows(args.ops);
    let mut single = vec![Vec::new(); WAYS.len()];
    let mut bulk = vec![Vec::new(); WAYS.len()];
    for round in 0..args.rounds {
        for step in 0..WAYS.len() {
            let way = (round + step) % WAYS.len();
            single[way].push(singles_per_second(&mut conn, way, &singles).await);
            bulk[way].push(batch_rows_per_second(&mut conn, way, &batch).await);
        }
    }
    drop(conn);
    println!(
        "PostgreSQL {version}: {} rounds; single-row updates on a held connection ({} per round), \
         upsert_many updating {} rows (UNNEST)",
        args.rounds, args.ops, args.rows
    );
    println!();
    println!("| way | single ops/s | ratio to plain | batch rows/s | ratio to plain |");
    println!("|---|---|---|---|---|");
    for (way, name) in WAYS.iter().enumerate() {
        let ratio = |of: &[Vec<f64>]| {
            median(
                of[way]
                    .iter()
                    .zip(&of[0])
                    .map(|(mine, plain)| mine / plain)
                    .collect(),
            )
        };
        println!(
            "| {name} | {:.0} | {:.3} | {:.0} | {:.3} |",
            median(single[way].clone()),
            ratio(&single),
            median(bulk[way].clone()),
            ratio(&bulk)
        );
    }
    db.finish().await;
}

fn as_parted(rows: &[Plain]) -> Vec<Parted> {
    rows.iter()
        .map(|r| Parted {
            id: r.id,
            part: r.part,
            hits: r.hits,
            note: r.note.clone(),
        })
        .collect()
}

fn as_flagged(rows: &[Plain]) -> Vec<PlainFlagged> {
    rows.iter()
        .map(|r| PlainFlagged {
            id: r.id,
            part: r.part,
            hits: r.hits,
            note: r.note.clone(),
        })
        .collect()
}

/// Calls per second of `way`'s single-row upsert of every row, one after another.
async fn singles_per_second(conn: &mut PgConnection, way: usize, rows: &[Plain]) -> f64 {
    let (flagged, parted) = (as_flagged(rows), as_parted(rows));
    let started = Instant::now();
    for i in 0..rows.len() {
        let outcome = match way {
            0 => rows[i].upsert(&mut *conn).await,
            1 => flagged[i].upsert(&mut *conn).await,
            _ => parted[i].upsert(&mut *conn).await,
        }
        .expect("the upsert");
        assert!(outcome.is_updated(), "every key is stored: an update");
    }
    seconds_to_rate(rows.len(), started)
}

/// Rows per second of `way`'s `upsert_many` of `rows`.
async fn batch_rows_per_second(conn: &mut PgConnection, way: usize, rows: &[Plain]) -> f64 {
    let (flagged, parted) = (as_flagged(rows), as_parted(rows));
    let started = Instant::now();
    let outcome = match way {
        0 => Plain::upsert_many_via(&mut *conn, rows, BulkPath::Unnest).await,
        1 => PlainFlagged::upsert_many_via(&mut *conn, &flagged, BulkPath::Unnest).await,
        _ => Parted::upsert_many_via(&mut *conn, &parted, BulkPath::Unnest).await,
    }
    .expect("the batch");
    assert_eq!(outcome.updated, rows.len() as u64, "every row an update");
    seconds_to_rate(rows.len(), started)
}

#[allow(clippy::cast_precision_loss)]
fn seconds_to_rate(n: usize, started: Instant) -> f64 {
    n as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
