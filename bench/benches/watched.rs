//! What applying a batch in rounds costs on a table that watches every row (a CHECK
//! constraint, a row trigger), against the same batch on a table that does not (folded),
//! in one run on one server (ratios of interleaved rounds).
//!
//! `upsert_many` of `--rows` rows (`add` counters) into three tables of the same shape:
//! `plain`, `checked` (`CHECK (n >= 0)`) and `triggered` (an AFTER row trigger that does
//! nothing). Key spreads: every key distinct (cold: one round), and `--rows` rows over 1,000
//! and over 100 keys (hot: 10 and 100 rounds). Each batch in a transaction rolled back,
//! over stored keys. Medians over `--rounds`.
//!
//! `cargo bench -p atomic-upsert-bench --bench watched`.

use std::time::Instant;

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath};
use clap::Parser;
use upsert_testkit::TestDb;

macro_rules! counter {
    ($name:ident, $table:literal) => {
        #[derive(AtomicUpsert, Clone)]
        #[upsert(table = $table)]
        struct $name {
            #[conflict_key]
            k: i64,
            #[upsert(add)]
            n: i64,
        }
    };
}
counter!(Plain, "plain");
counter!(Checked, "checked");
counter!(Triggered, "triggered");

/// The cost of rounds.
#[derive(Parser, Debug)]
struct Args {
    /// Interleaved rounds; medians are over these.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Rows per batch.
    #[arg(long, default_value_t = 10_000)]
    rows: i64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE plain (k int8 PRIMARY KEY, n int8 NOT NULL);
         CREATE TABLE checked (k int8 PRIMARY KEY, n int8 NOT NULL CHECK (n >= 0));
         CREATE TABLE triggered (k int8 PRIMARY KEY, n int8 NOT NULL);
         CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
         CREATE TRIGGER nothing AFTER INSERT OR UPDATE ON triggered FOR EACH ROW EXECUTE FUNCTION nothing();
         INSERT INTO plain SELECT g, 0 FROM generate_series(0, 9999) g;
         INSERT INTO checked SELECT g, 0 FROM generate_series(0, 9999) g;
         INSERT INTO triggered SELECT g, 0 FROM generate_series(0, 9999) g;",
    )
    .execute(&db.pool)
    .await
    .expect("the tables");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *conn)
        .await
        .expect("version");
    let spreads = [
        ("cold: all keys distinct", args.rows),
        ("1,000 keys", 1_000),
        ("100 keys", 100),
    ];
    let tables = ["plain", "checked", "triggered"];
    let mut ms = vec![vec![Vec::new(); tables.len()]; spreads.len()];
    for _ in 0..args.rounds {
        for (s, (_, keys)) in spreads.iter().enumerate() {
            let rows: Vec<(i64, i64)> = (0..args.rows).map(|i| (i % keys, 1)).collect();
            for (t, table) in tables.iter().enumerate() {
                ms[s][t].push(run(&mut conn, table, &rows).await);
            }
        }
    }
    drop(conn);
    println!(
        "PostgreSQL {version}: {} rounds; upsert_many of {} rows over stored keys",
        args.rounds, args.rows
    );
    println!();
    println!("| keys | plain (folded) | CHECK (rounds) | ratio | row trigger (rounds) | ratio |");
    println!("|---|---|---|---|---|---|");
    for (s, (name, _)) in spreads.iter().enumerate() {
        let ratio = |t: usize| median(ms[s][t].iter().zip(&ms[s][0]).map(|(a, b)| a / b).collect());
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.2}x | {:.1} ms | {:.2}x |",
            median(ms[s][0].clone()),
            median(ms[s][1].clone()),
            ratio(1),
            median(ms[s][2].clone()),
            ratio(2)
        );
    }
    db.finish().await;
}

/// Milliseconds of one batch on `table`, in a transaction rolled back.
async fn run(conn: &mut PgConnection, table: &str, rows: &[(i64, i64)]) -> f64 {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
    let started = Instant::now();
    match table {
        "plain" => {
            let rows: Vec<Plain> = rows.iter().map(|&(k, n)| Plain { k, n }).collect();
            Plain::upsert_many_via(&mut *tx, &rows, BulkPath::Unnest).await
        }
        "checked" => {
            let rows: Vec<Checked> = rows.iter().map(|&(k, n)| Checked { k, n }).collect();
            Checked::upsert_many_via(&mut *tx, &rows, BulkPath::Unnest).await
        }
        _ => {
            let rows: Vec<Triggered> = rows.iter().map(|&(k, n)| Triggered { k, n }).collect();
            Triggered::upsert_many_via(&mut *tx, &rows, BulkPath::Unnest).await
        }
    }
    .expect("the batch");
    let took = started.elapsed().as_secs_f64() * 1e3;
    tx.rollback().await.expect("rollback");
    took
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
