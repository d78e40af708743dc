//! What `#[upsert(default = "..")]` and `#[upsert(update_from = "sent")]` cost against plain
//! replaced fields, in one run on one server (the machines are shared: ratios of
//! interleaved rounds, not absolute rates, are the result).
//!
//! Three structs on the same table (`read bool NOT NULL DEFAULT false`, `local bool NOT NULL
//! DEFAULT true`, `ap_id text`):
//! - `plain`: every column replaced from `EXCLUDED` (what a struct without the attributes
//!   sends);
//! - `default`: `read` and `local` with `default`: `COALESCE($n, default)` on insert, a
//!   `CASE` on the sent value on update (a batch looks the sent values up by key in one
//!   `jsonb` object built once per statement);
//! - `sent`: the same, and `ap_id` with `update_from = "sent"`.
//!
//! Each round runs every way in a rotated order: single-row updates on a held connection
//! (`--ops` calls), then `upsert_many` updating `--rows` rows on UNNEST and on COPY. Medians
//! over `--rounds` of each way's rate and of its ratio to `plain` in that round.
//!
//! `cargo bench -p atomic-upsert-bench --bench defaults` (the server of
//! `upsert_testkit::server`: `DATABASE_URL`, or a throwaway one from `ATOMIC_UPSERT_PG_BIN`
//! or the system's binaries).

use std::time::Instant;

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath};
use clap::Parser;
use upsert_testkit::TestDb;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "mention")]
struct Plain {
    #[conflict_key]
    id: i64,
    read: bool,
    local: bool,
    ap_id: String,
}

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "mention")]
struct Defaulted {
    #[conflict_key]
    id: i64,
    #[upsert(default = "false")]
    read: Option<bool>,
    #[upsert(default = "true")]
    local: Option<bool>,
    ap_id: String,
}

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "mention")]
struct Sent {
    #[conflict_key]
    id: i64,
    #[upsert(default = "false")]
    read: Option<bool>,
    #[upsert(default = "true")]
    local: Option<bool>,
    #[upsert(update_from = "sent")]
    ap_id: String,
}

/// The cost of the statements that read the sent value, against the plain one.
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

const WAYS: [&str; 3] = ["plain", "default", "default+sent"];
const PATHS: [BulkPath; 2] = [BulkPath::Unnest, BulkPath::Copy];

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE mention (id int8 PRIMARY KEY, read bool NOT NULL DEFAULT false, \
         local bool NOT NULL DEFAULT true, ap_id text NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .expect("the table");
    let rows = |n: i64| -> Vec<Plain> {
        (0..n)
            .map(|id| Plain {
                id,
                read: id % 2 == 0,
                local: id % 3 == 0,
                ap_id: format!("https://remote/{id}"),
            })
            .collect()
    };
    // Every key stored first: each call below is an update.
    Plain::upsert_many(&db.pool, &rows(args.ops.max(args.rows)))
        .await
        .expect("seed");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *conn)
        .await
        .expect("version");
    let batch = rows(args.rows);
    let singles = rows(args.ops);
    let mut single = vec![Vec::new(); WAYS.len()];
    let mut bulk = vec![vec![Vec::new(); WAYS.len()]; PATHS.len()];
    for round in 0..args.rounds {
        for step in 0..WAYS.len() {
            let way = (round + step) % WAYS.len();
            single[way].push(singles_per_second(&mut conn, way, &singles).await);
            for (p, path) in PATHS.iter().enumerate() {
                bulk[p][way].push(batch_rows_per_second(&mut conn, way, &batch, *path).await);
            }
        }
    }
    drop(conn);
    println!(
        "PostgreSQL {version}: {} rounds; single-row updates on a held connection ({} per round), \
         upsert_many updating {} rows",
        args.rounds, args.ops, args.rows
    );
    println!();
    println!("| way | single ops/s | ratio | UNNEST rows/s | ratio | COPY rows/s | ratio |");
    println!("|---|---|---|---|---|---|---|");
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
            "| {name} | {:.0} | {:.3} | {:.0} | {:.3} | {:.0} | {:.3} |",
            median(single[way].clone()),
            ratio(&single),
            median(bulk[0][way].clone()),
            ratio(&bulk[0]),
            median(bulk[1][way].clone()),
            ratio(&bulk[1]),
        );
    }
    db.finish().await;
}

/// Half the rows send `None` (keep), half `Some`.
fn as_defaulted(rows: &[Plain]) -> Vec<Defaulted> {
    rows.iter()
        .map(|r| Defaulted {
            id: r.id,
            read: (r.id % 4 < 2).then_some(r.read),
            local: (r.id % 4 >= 2).then_some(r.local),
            ap_id: r.ap_id.clone(),
        })
        .collect()
}

fn as_sent(rows: &[Plain]) -> Vec<Sent> {
    as_defaulted(rows)
        .into_iter()
        .map(|r| Sent {
            id: r.id,
            read: r.read,
            local: r.local,
            ap_id: r.ap_id,
        })
        .collect()
}

/// Calls per second of `way`'s single-row upsert of every row, one after another.
async fn singles_per_second(conn: &mut PgConnection, way: usize, rows: &[Plain]) -> f64 {
    let (defaulted, sent) = (as_defaulted(rows), as_sent(rows));
    let started = Instant::now();
    for i in 0..rows.len() {
        let outcome = match way {
            0 => rows[i].upsert(&mut *conn).await,
            1 => defaulted[i].upsert(&mut *conn).await,
            _ => sent[i].upsert(&mut *conn).await,
        }
        .expect("the upsert");
        assert!(outcome.is_updated(), "every key is stored: an update");
    }
    seconds_to_rate(rows.len(), started)
}

/// Rows per second of `way`'s `upsert_many` of `rows` on `path`.
async fn batch_rows_per_second(
    conn: &mut PgConnection,
    way: usize,
    rows: &[Plain],
    path: BulkPath,
) -> f64 {
    let (defaulted, sent) = (as_defaulted(rows), as_sent(rows));
    let started = Instant::now();
    let outcome = match way {
        0 => Plain::upsert_many_via(&mut *conn, rows, path).await,
        1 => Defaulted::upsert_many_via(&mut *conn, &defaulted, path).await,
        _ => Sent::upsert_many_via(&mut *conn, &sent, path).await,
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
