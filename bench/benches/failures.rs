//! What naming the row at fault costs when a batch fails, against the same batch
//! succeeding, in one run on one server (ratios of interleaved rounds).
//!
//! `upsert_many` of `--rows` rows into a table whose `code` is `varchar(8)`: succeeding,
//! then failing with a value too long at row `--bad` (so the row is found by bisection on
//! both paths: `COPY`'s own line number covers only values it parses itself), on UNNEST and
//! on COPY. Medians over `--rounds` of each case's time and of failing / succeeding.
//!
//! `cargo bench -p atomic-upsert-bench --bench failures`.

use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath, Error};
use clap::Parser;
use upsert_testkit::TestDb;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "labels")]
struct Label {
    #[conflict_key]
    id: i64,
    code: String,
    note: String,
}

/// The cost of the failure path.
#[derive(Parser, Debug)]
struct Args {
    /// Interleaved rounds; medians are over these.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Rows per batch.
    #[arg(long, default_value_t = 10_000)]
    rows: i64,
    /// The row at fault.
    #[arg(long, default_value_t = 7_341)]
    bad: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE labels (id int8 PRIMARY KEY, code varchar(8) NOT NULL, note text NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .expect("the table");
    let good: Vec<Label> = (0..args.rows)
        .map(|id| Label {
            id,
            code: format!("c{}", id % 1000),
            note: "a note".into(),
        })
        .collect();
    let mut bad = good.clone();
    bad[args.bad].code = "much-too-long".into();
    let mut conn = db.pool.acquire().await.expect("a connection");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *conn)
        .await
        .expect("version");
    let paths = [BulkPath::Unnest, BulkPath::Copy];
    let mut times = vec![[Vec::new(), Vec::new()]; 2];
    for _ in 0..args.rounds {
        for (p, path) in paths.iter().enumerate() {
            times[p][0].push(run(&mut conn, &good, *path, None).await);
            times[p][1].push(run(&mut conn, &bad, *path, Some(args.bad)).await);
        }
    }
    drop(conn);
    println!(
        "PostgreSQL {version}: {} rounds; {} rows, a value too long at row {}",
        args.rounds, args.rows, args.bad
    );
    println!();
    println!("| path | succeeding | failing, row named | failing / succeeding |");
    println!("|---|---|---|---|");
    for (p, path) in paths.iter().enumerate() {
        let ratio: Vec<f64> = times[p][1]
            .iter()
            .zip(&times[p][0])
            .map(|(bad, good)| bad.as_secs_f64() / good.as_secs_f64())
            .collect();
        println!(
            "| {path:?} | {:.1} ms | {:.1} ms | {:.2}x |",
            median_ms(&times[p][0]),
            median_ms(&times[p][1]),
            median(ratio)
        );
    }
    db.finish().await;
}

/// One batch in a transaction rolled back (every round starts from an empty table).
async fn run(
    conn: &mut PgConnection,
    rows: &[Label],
    path: BulkPath,
    bad: Option<usize>,
) -> Duration {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
    let started = Instant::now();
    let result = Label::upsert_many_via(&mut *tx, rows, path).await;
    let took = started.elapsed();
    match (result, bad) {
        (Ok(_), None) => {}
        (Err(Error::Row { index, .. }), Some(bad)) if index == bad => {}
        (other, _) => panic!("{path:?}: unexpected {:?}", other.map(|o| o.inserted)),
    }
    tx.rollback().await.expect("rollback");
    took
}

fn median_ms(values: &[Duration]) -> f64 {
    median(values.iter().map(|d| d.as_secs_f64() * 1e3).collect())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
