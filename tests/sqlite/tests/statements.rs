//! The SQLite statements of `upsert-core`, run on sqlx's bundled SQLite: every strategy and
//! guard means what it means on PostgreSQL (NULLs in `greatest`/`least`, a shallow
//! `merge`), and the outcome probe, run with the write under one `BEGIN IMMEDIATE`, gives
//! exact outcomes under concurrent connections where the seed's naive pattern fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection as _, Row as _, SqliteConnection};
use upsert_core::{ConflictTarget, Model, Role, Sqlite, Strategy, Table, single};

fn model<'a>(name: &'a str, fields: &[(&'a str, Role)], skip_unchanged: bool) -> Model<'a> {
    Model::new(
        Table { schema: None, name },
        ConflictTarget::Keys { predicate: None },
        fields.iter().copied(),
        None,
        skip_unchanged,
    )
}

async fn memory() -> SqliteConnection {
    SqliteConnection::connect("sqlite::memory:").await.unwrap()
}

/// Runs the probe and the write of `model` in one `BEGIN IMMEDIATE` with `binds`, as the
/// runtime will: `Some(true)` inserted, `Some(false)` updated, `None` nothing written.
async fn upsert(
    conn: &mut SqliteConnection,
    model: &Model<'_>,
    binds: &[Option<&str>],
) -> Result<Option<bool>, sqlx::Error> {
    let keys = model.keys().len();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let result = async {
        let probe = single::probe(&Sqlite, model);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(probe));
        for bind in &binds[..keys] {
            query = query.bind(*bind);
        }
        let existed = query.fetch_optional(&mut *conn).await?.is_some();
        let write = single::upsert(&Sqlite, model);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(write));
        for bind in binds {
            query = query.bind(*bind);
        }
        let written = query.fetch_optional(&mut *conn).await?.is_some();
        Ok(written.then_some(!existed))
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    sqlx::query(end).execute(&mut *conn).await?;
    result
}

async fn value(conn: &mut SqliteConnection, sql: &'static str) -> Option<String> {
    sqlx::query(sql)
        .fetch_one(conn)
        .await
        .unwrap()
        .get::<Option<String>, _>(0)
}

#[tokio::test]
async fn greatest_and_least_ignore_nulls_as_on_postgres() {
    let mut conn = memory().await;
    sqlx::query("CREATE TABLE marks (k TEXT PRIMARY KEY, hi INTEGER, lo INTEGER)")
        .execute(&mut conn)
        .await
        .unwrap();
    let m = model(
        "marks",
        &[
            ("k", Role::Key),
            ("hi", Role::Combine(Strategy::Greatest)),
            ("lo", Role::Combine(Strategy::Least)),
        ],
        false,
    );
    assert_eq!(
        upsert(&mut conn, &m, &[Some("a"), None, Some("5")])
            .await
            .unwrap(),
        Some(true)
    );
    // A NULL side never wins; SQLite's own max()/min() would return NULL here.
    assert_eq!(
        upsert(&mut conn, &m, &[Some("a"), Some("3"), None])
            .await
            .unwrap(),
        Some(false)
    );
    upsert(&mut conn, &m, &[Some("a"), Some("2"), Some("9")])
        .await
        .unwrap();
    upsert(&mut conn, &m, &[Some("a"), Some("7"), Some("1")])
        .await
        .unwrap();
    assert_eq!(
        value(&mut conn, "SELECT hi || ',' || lo FROM marks")
            .await
            .as_deref(),
        Some("7,1")
    );
}

#[tokio::test]
async fn merge_is_shallow_and_keeps_nulls_as_values() {
    let mut conn = memory().await;
    sqlx::query("CREATE TABLE docs (k TEXT PRIMARY KEY, meta TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    let m = model(
        "docs",
        &[("k", Role::Key), ("meta", Role::Combine(Strategy::Merge))],
        false,
    );
    let stored = r#"{"a":1,"nested":{"x":1,"y":2},"flag":true,"list":[1,2]}"#;
    upsert(&mut conn, &m, &[Some("d"), Some(stored)])
        .await
        .unwrap();
    // A NULL incoming document keeps the stored one.
    upsert(&mut conn, &m, &[Some("d"), None]).await.unwrap();
    let incoming = r#"{"nested":{"z":3},"b":null,"flag":false}"#;
    assert_eq!(
        upsert(&mut conn, &m, &[Some("d"), Some(incoming)])
            .await
            .unwrap(),
        Some(false)
    );
    // PostgreSQL's jsonb `||`: top-level keys replaced whole (no deep merge, unlike
    // json_patch), a null value stored as null (json_patch would delete the key).
    let checks: String = sqlx::query_scalar(
        "SELECT json_extract(meta, '$.a') || ' ' || json_extract(meta, '$.nested') || ' ' || \
         json_type(meta, '$.b') || ' ' || json_type(meta, '$.flag') || ' ' || \
         json_extract(meta, '$.list') || ' ' || (SELECT count(*) FROM json_each(meta)) FROM docs",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(checks, r#"1 {"z":3} null false [1,2] 5"#);
}

#[tokio::test]
async fn skip_unchanged_and_version_write_nothing_and_say_so() {
    let mut conn = memory().await;
    sqlx::query(
        "CREATE TABLE feeds (k TEXT PRIMARY KEY, title TEXT, n INTEGER NOT NULL, \
         version INTEGER NOT NULL, updated_at TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let same = model(
        "feeds",
        &[
            ("k", Role::Key),
            ("title", Role::Write),
            ("n", Role::Combine(Strategy::Coalesce)),
            ("version", Role::Write),
            ("updated_at", Role::UpdatedAt),
        ],
        true,
    );
    let row = [Some("f"), None, Some("1"), Some("1")];
    assert_eq!(upsert(&mut conn, &same, &row).await.unwrap(), Some(true));
    // Identical values (a NULL title included): nothing written, updated_at untouched.
    let before = value(&mut conn, "SELECT updated_at FROM feeds").await;
    assert_eq!(upsert(&mut conn, &same, &row).await.unwrap(), None);
    assert_eq!(
        value(&mut conn, "SELECT updated_at FROM feeds").await,
        before
    );
    assert_eq!(
        upsert(
            &mut conn,
            &same,
            &[Some("f"), Some("t"), Some("1"), Some("1")]
        )
        .await
        .unwrap(),
        Some(false)
    );

    let versioned = model(
        "feeds",
        &[
            ("k", Role::Key),
            ("title", Role::Write),
            ("n", Role::Write),
            ("version", Role::Version),
            ("updated_at", Role::UpdatedAt),
        ],
        false,
    );
    assert_eq!(
        upsert(
            &mut conn,
            &versioned,
            &[Some("f"), Some("new"), Some("2"), Some("5")]
        )
        .await
        .unwrap(),
        Some(false)
    );
    // A stale version writes nothing.
    assert_eq!(
        upsert(
            &mut conn,
            &versioned,
            &[Some("f"), Some("stale"), Some("3"), Some("4")]
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(
        value(
            &mut conn,
            "SELECT title || ',' || n || ',' || version FROM feeds"
        )
        .await
        .as_deref(),
        Some("new,2,5")
    );
}

#[tokio::test]
async fn a_partial_index_target_and_add_counters() {
    let mut conn = memory().await;
    sqlx::raw_sql(
        "CREATE TABLE users (email TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, logins INTEGER NOT NULL); \
         CREATE UNIQUE INDEX live_email ON users (email) WHERE NOT deleted",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let m = Model::new(
        Table {
            schema: None,
            name: "users",
        },
        ConflictTarget::Keys {
            predicate: Some("NOT deleted"),
        },
        [
            ("email", Role::Key),
            ("logins", Role::Combine(Strategy::Add)),
        ],
        None,
        false,
    );
    assert_eq!(
        upsert(&mut conn, &m, &[Some("a@x"), Some("1")])
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        upsert(&mut conn, &m, &[Some("a@x"), Some("2")])
            .await
            .unwrap(),
        Some(false)
    );
    sqlx::query("UPDATE users SET deleted = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    // The deleted row is outside the index: the probe does not see it, and the write inserts.
    assert_eq!(
        upsert(&mut conn, &m, &[Some("a@x"), Some("5")])
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        value(
            &mut conn,
            "SELECT group_concat(logins, ',') FROM (SELECT logins FROM users ORDER BY deleted DESC)"
        )
        .await
        .as_deref(),
        Some("3,5")
    );
}

async fn file_pool(connections: u32) -> (SqlitePool, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "atomic-upsert-sqlite-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE stats (stats_type TEXT PRIMARY KEY, runs INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    (pool, path)
}

const WORKERS: usize = 8;
const KEYS: usize = 50;

/// 8 connections, 50 fresh keys, every worker upserting every key once (+1): the probe and
/// the write under `BEGIN IMMEDIATE` give exactly one `Inserted` per key and exact sums,
/// and the seed's naive SELECT-then-INSERT on the same workload fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn probe_and_write_under_one_write_lock_are_exact_where_naive_code_races() {
    let (pool, path) = file_pool(u32::try_from(WORKERS).unwrap()).await;
    let counter = model(
        "stats",
        &[
            ("stats_type", Role::Key),
            ("runs", Role::Combine(Strategy::Add)),
        ],
        false,
    );
    let inserted = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(WORKERS));
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (pool, counter, inserted, barrier) = (
            pool.clone(),
            counter.clone(),
            inserted.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            barrier.wait().await;
            for key in 0..KEYS {
                let key = format!("atomic-{key}");
                let outcome = upsert(&mut conn, &counter, &[Some(&key), Some("1")])
                    .await
                    .unwrap();
                if outcome == Some(true) {
                    inserted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        inserted.load(Ordering::Relaxed),
        KEYS as u64,
        "one Inserted per key"
    );
    let (rows, total): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(runs) FROM stats WHERE stats_type LIKE 'atomic-%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((rows, total), (KEYS as i64, (KEYS * WORKERS) as i64));

    // The seed's pattern on the same workload: look, then insert or update. A round whose
    // interleaving happens not to collide is run again on fresh keys, up to 5 rounds.
    let failures = Arc::new(AtomicU64::new(0));
    for round in 0..5 {
        let barrier = Arc::new(tokio::sync::Barrier::new(WORKERS));
        let mut tasks = Vec::new();
        for _ in 0..WORKERS {
            let (pool, failures, barrier) = (pool.clone(), failures.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = pool.acquire().await.unwrap();
                barrier.wait().await;
                for key in 0..KEYS {
                    let key = format!("naive-{round}-{key}");
                    let found = sqlx::query("SELECT runs FROM stats WHERE stats_type = ?1")
                        .bind(&key)
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                    let result = if found.is_some() {
                        sqlx::query("UPDATE stats SET runs = runs + 1 WHERE stats_type = ?1")
                            .bind(&key)
                            .execute(&mut *conn)
                            .await
                    } else {
                        sqlx::query("INSERT INTO stats (stats_type, runs) VALUES (?1, 1)")
                            .bind(&key)
                            .execute(&mut *conn)
                            .await
                    };
                    if result.is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        if failures.load(Ordering::Relaxed) > 0 {
            break;
        }
    }
    let failed = failures.load(Ordering::Relaxed);
    println!(
        "{WORKERS} connections x {KEYS} fresh keys: naive failed {failed} of {} runs, atomic 0",
        WORKERS * KEYS
    );
    assert!(
        failed > 0,
        "the naive pattern raced (UNIQUE constraint failed)"
    );
    pool.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
