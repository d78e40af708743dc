//! What a SQLite batch costs applied one row at a time (the outcome probe and the write,
//! prepared once, all inside one `BEGIN IMMEDIATE`) against hand-written multi-row `VALUES`
//! upserts in chunks, on a file database in WAL mode. It decides how `upsert_many` runs on
//! SQLite: with no network between the client and the engine, a statement per row may cost
//! little next to one statement per batch.
//!
//! `cargo run --release --manifest-path tests/sqlite/Cargo.toml --example batch_cost`

use std::time::Instant;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use upsert_core::{ConflictTarget, Model, Role, Sqlite, Strategy, Table, single};

const ROWS: usize = 20_000;
const CHUNK: usize = 500;

async fn fresh() -> (SqliteConnection, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "atomic-upsert-batch-cost-{}.db",
        std::process::id()
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .unwrap();
    sqlx::query("CREATE TABLE stats (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        .execute(&mut conn)
        .await
        .unwrap();
    (conn, path)
}

async fn one_by_one(conn: &mut SqliteConnection, keys: &[String], probe: bool) -> f64 {
    let model = Model::new(
        Table {
            schema: None,
            name: "stats",
        },
        ConflictTarget::Keys { predicate: None },
        [("k", Role::Key), ("n", Role::Combine(Strategy::Add))],
        None,
        false,
    );
    let probe_sql = single::probe(&Sqlite, &model);
    let write_sql = single::upsert(&Sqlite, &model);
    let started = Instant::now();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
    for key in keys {
        if probe {
            sqlx::query(sqlx::AssertSqlSafe(probe_sql.as_str()))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(sqlx::AssertSqlSafe(write_sql.as_str()))
            .bind(key)
            .bind(1_i64)
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    started.elapsed().as_secs_f64()
}

async fn values_chunks(conn: &mut SqliteConnection, keys: &[String]) -> f64 {
    let started = Instant::now();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
    for chunk in keys.chunks(CHUNK) {
        let mut sql = String::from("INSERT INTO stats (k, n) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(?{}, 1)", i + 1));
        }
        sql.push_str(" ON CONFLICT (k) DO UPDATE SET n = stats.n + excluded.n");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let keys: Vec<String> = (0..ROWS).map(|i| format!("key-{i:06}")).collect();
    println!("| strategy | insert s | update s |");
    println!("|---|---|---|");
    for (name, run) in [
        ("probe + write per row", 0),
        ("write per row (no probe)", 1),
        ("multi-row VALUES, 500 a chunk", 2),
    ] {
        let (mut conn, path) = fresh().await;
        let mut seconds = [0.0; 2];
        for second in &mut seconds {
            *second = match run {
                0 => one_by_one(&mut conn, &keys, true).await,
                1 => one_by_one(&mut conn, &keys, false).await,
                _ => values_chunks(&mut conn, &keys).await,
            };
        }
        println!("| {name} | {:.3} | {:.3} |", seconds[0], seconds[1]);
        drop(conn);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
