//! `#[derive(AtomicUpsert)]` on SQLite: the same structs and calls as on PostgreSQL, on
//! `&SqlitePool`, `&mut *conn` and `&mut *tx`, with exact outcomes under concurrent
//! connections (where the seed's naive pattern fails on the same workload), every strategy
//! and guard, batches equal to one-by-one application on random data, typed errors that
//! leave the table as it was, and `verify` against SQLite's catalog.

use std::sync::Arc;
use std::time::Duration;

use atomic_upsert::sqlx::types::Json;
use atomic_upsert::{AtomicUpsert, BatchOutcome, Error, UpsertOutcome};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection as _, SqliteConnection};
use tokio::sync::Barrier;
use upsert_conformance::{
    Backend, KEYS, Mixed, Rng, Stats, a_dropped_call_leaves_the_pool_in_step,
    a_rejected_row_is_typed_and_loses_nothing, failures_are_typed_alike, race,
    race_is_exact_where_the_naive_pattern_fails, random_batches_equal_one_by_one, tally,
};

/// A throwaway database file with `connections` connections in WAL mode; removed on drop.
struct FileDb {
    pool: SqlitePool,
    path: std::path::PathBuf,
}

impl FileDb {
    async fn new(connections: u32, busy: Duration, schema: &str) -> FileDb {
        FileDb::with_journal(connections, busy, schema, SqliteJournalMode::Wal).await
    }

    async fn with_journal(
        connections: u32,
        busy: Duration,
        schema: &str,
        journal: SqliteJournalMode,
    ) -> FileDb {
        let path = std::env::temp_dir().join(format!(
            "atomic-upsert-runtime-{}-{}.db",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(journal)
            .busy_timeout(busy);
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(schema.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
        FileDb { pool, path }
    }
}

impl Drop for FileDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

async fn memory(schema: &str) -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

// ---------------------------------------------------------------------------------------
// The race: the seed's stats counter on 8 connections.

const STATS: &str = "CREATE TABLE stats (stats_type TEXT PRIMARY KEY, runs INTEGER NOT NULL)";
/// The race's tasks, as a count.
const WORKERS: usize = <Lite as Backend>::WORKERS as usize;

/// The race through a held connection inside a caller's transaction (`BEGIN IMMEDIATE`):
/// the conformance suite's race (`the_race_is_exact_where_the_naive_pattern_fails_on_sqlite`)
/// covers the naive pattern and the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_in_a_callers_transaction_are_exact() {
    // Each task holds a connection and upserts inside its own `BEGIN IMMEDIATE`.
    let ((inserted, failed), rows) = race(&Lite, |pool, key| async move {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| e.to_string())?;
        let row = Stats {
            stats_type: key,
            runs: 1,
        };
        let outcome = row.upsert(&mut *tx).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(Some(outcome))
    })
    .await;
    assert_eq!((inserted, failed), (KEYS, 0));
    assert!(
        rows.iter().all(|(_, runs)| *runs == WORKERS as i64),
        "{rows:?}"
    );
}

/// Batches from 8 connections over overlapping keys: no error, no lost increment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_lose_nothing() {
    let db = FileDb::new(WORKERS as u32, Duration::from_secs(30), STATS).await;
    let mut handles = Vec::new();
    for worker in 0..WORKERS {
        let pool = db.pool.clone();
        handles.push(tokio::spawn(async move {
            let mut total = BatchOutcome::default();
            for round in 0..10 {
                // 300 rows over 100 keys, in a different order per worker and round.
                let rows: Vec<Stats> = (0..300)
                    .map(|i| Stats {
                        stats_type: format!("key-{}", (i * 7 + worker * 13 + round) % 100),
                        runs: 1,
                    })
                    .collect();
                let outcome = Stats::upsert_many(&pool, &rows).await.unwrap();
                total.inserted += outcome.inserted;
                total.updated += outcome.updated;
                total.skipped += outcome.skipped;
            }
            total
        }));
    }
    let mut total = BatchOutcome::default();
    for handle in handles {
        let outcome = handle.await.unwrap();
        total.inserted += outcome.inserted;
        total.updated += outcome.updated;
    }
    assert_eq!(total.inserted, 100, "each key inserted exactly once");
    assert_eq!(total.inserted + total.updated, (WORKERS * 10 * 300) as u64);
    let sum: i64 = sqlx::query_scalar("SELECT sum(runs) FROM stats")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(sum, (WORKERS * 10 * 300) as i64);
}

// ---------------------------------------------------------------------------------------
// Every strategy and guard, one row at a time, with its outcome.

const MIXED: &str = "CREATE TABLE mixed (k TEXT UNIQUE, v TEXT, n INTEGER NOT NULL, hi INTEGER, \
    lo INTEGER, first TEXT, c TEXT, updated_at TEXT NOT NULL)";

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "docs")]
struct Doc {
    #[conflict_key]
    id: i64,
    #[upsert(merge)]
    meta: Option<Json<serde_json::Value>>,
    #[upsert(version)]
    version: i64,
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "listing", update_where = "NOT listing.locked")]
struct Listing {
    #[conflict_key]
    sku: String,
    price: i64,
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "profile", skip_unchanged)]
struct Profile {
    #[conflict_key]
    id: i64,
    name: String,
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "users", conflict_where = "NOT deleted")]
struct User {
    #[conflict_key]
    email: String,
    name: String,
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "tag")]
struct Tag {
    #[conflict_key]
    name: String,
}

const SCHEMA: &str = "
    CREATE TABLE mixed (k TEXT UNIQUE, v TEXT, n INTEGER NOT NULL, hi INTEGER, lo INTEGER,
                        first TEXT, c TEXT, updated_at TEXT NOT NULL);
    CREATE TABLE docs (id INTEGER PRIMARY KEY, meta TEXT, version INTEGER NOT NULL);
    CREATE TABLE listing (sku TEXT PRIMARY KEY, price INTEGER NOT NULL, locked BOOLEAN NOT NULL DEFAULT 0);
    CREATE TABLE profile (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE users (email TEXT NOT NULL, name TEXT NOT NULL, deleted BOOLEAN NOT NULL DEFAULT 0);
    CREATE UNIQUE INDEX users_live ON users (email) WHERE NOT deleted;
    CREATE TABLE tag (name TEXT PRIMARY KEY);
    CREATE TABLE stats (stats_type TEXT PRIMARY KEY, runs INTEGER NOT NULL);";

fn mixed(k: Option<&str>, v: Option<&str>, n: i64, hi: Option<i64>, lo: Option<i64>) -> Mixed {
    Mixed {
        k: k.map(str::to_owned),
        v: v.map(str::to_owned),
        n,
        hi,
        lo,
        first: v.map(|v| format!("first {v}")),
        c: v.map(str::to_owned),
        updated_at: (),
    }
}

#[tokio::test]
async fn strategies_mean_what_they_mean_on_postgres() {
    let mut conn = memory(SCHEMA).await;
    let a = mixed(Some("a"), Some("x"), 2, Some(5), Some(5));
    assert_eq!(a.upsert(&mut conn).await.unwrap(), UpsertOutcome::Inserted);
    // NULLs are ignored by greatest/least (PostgreSQL's GREATEST/LEAST), kept out by coalesce.
    let b = mixed(Some("a"), None, 3, None, Some(1));
    assert_eq!(b.upsert(&mut conn).await.unwrap(), UpsertOutcome::Updated);
    let stored = mixed(Some("a"), None, 0, Some(9), None)
        .upsert_returning(&mut conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.n, 5);
    assert_eq!((stored.hi, stored.lo), (Some(9), Some(1)));
    assert_eq!(
        stored.first.as_deref(),
        Some("first x"),
        "insert_only keeps the first"
    );
    assert_eq!(
        stored.c.as_deref(),
        Some("x"),
        "coalesce keeps the stored value"
    );
    assert_eq!(stored.v, None, "a plain column takes the NULL");
    let stamped: String = sqlx::query_scalar("SELECT updated_at FROM mixed")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(stamped.starts_with("20"), "{stamped}");

    // A NULL key never conflicts, as in SQLite's unique index.
    for _ in 0..2 {
        let null = mixed(None, Some("n"), 1, None, None);
        assert_eq!(
            null.upsert(&mut conn).await.unwrap(),
            UpsertOutcome::Inserted
        );
    }

    // insert_or_ignore: inserted once, then skipped, the stored row untouched.
    let tag = Tag {
        name: "rust".into(),
    };
    assert_eq!(
        tag.insert_or_ignore(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        tag.insert_or_ignore(&mut conn).await.unwrap(),
        UpsertOutcome::Skipped
    );
    // All keys: nothing to update, so an existing key is skipped.
    assert_eq!(tag.upsert(&mut conn).await.unwrap(), UpsertOutcome::Skipped);
}

#[tokio::test]
async fn merge_is_shallow_and_guards_hold_rows_back() {
    let mut conn = memory(SCHEMA).await;
    let doc = |meta: serde_json::Value, version| Doc {
        id: 1,
        meta: Some(Json(meta)),
        version,
    };
    let first = doc(serde_json::json!({"a": 1, "nested": {"x": 1}, "b": 2}), 1);
    assert_eq!(
        first.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    let second = doc(serde_json::json!({"nested": {"y": 2}, "b": null}), 2);
    let stored = second.upsert_returning(&mut conn).await.unwrap().unwrap();
    // jsonb `||`: top-level keys replaced whole, a null stored as null (not deleted).
    assert_eq!(
        stored.meta.unwrap().0,
        serde_json::json!({"a": 1, "nested": {"y": 2}, "b": null})
    );
    // A stale version is skipped and changes nothing.
    let stale = doc(serde_json::json!({"a": 99}), 1);
    assert_eq!(
        stale.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(stale.upsert_returning(&mut conn).await.unwrap(), None);

    // update_where: a locked row is skipped.
    let listing = Listing {
        sku: "s".into(),
        price: 10,
    };
    assert_eq!(
        listing.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    sqlx::query("UPDATE listing SET locked = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let repriced = Listing {
        sku: "s".into(),
        price: 20,
    };
    assert_eq!(
        repriced.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Skipped
    );

    // skip_unchanged: the same values are Unchanged, new ones Updated.
    let ann = Profile {
        id: 1,
        name: "ann".into(),
    };
    assert_eq!(
        ann.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        ann.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Unchanged
    );
    let renamed = Profile {
        id: 1,
        name: "anne".into(),
    };
    assert_eq!(
        renamed.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Updated
    );

    // A partial unique index as the target: a deleted row does not conflict.
    let user = User {
        email: "a@b".into(),
        name: "one".into(),
    };
    assert_eq!(
        user.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    sqlx::query("UPDATE users SET deleted = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        user.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        user.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Updated
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

// ---------------------------------------------------------------------------------------
// Batches against one-by-one application.

/// The conformance suite (`upsert-conformance`, written once against its `Backend` trait)
/// on SQLite: each fresh database is an in-memory one.
struct Lite;

impl Backend for Lite {
    type Db = sqlx::Sqlite;
    type Conn = Box<SqliteConnection>;
    type Keep = FileDb;

    const STATS: &'static str = STATS;

    const STATS_CHECKED: &'static str = "CREATE TABLE stats (stats_type TEXT PRIMARY KEY, \
        runs INTEGER NOT NULL CHECK (runs <= 100))";

    const STATS_ROWS: &'static str =
        "SELECT stats_type || ':' || runs FROM stats ORDER BY stats_type";

    const MIXED: &'static str = MIXED;

    const MIXED_ROWS: &'static str = "SELECT quote(k) || ',' || quote(v) || ',' || n || ',' \
        || quote(hi) || ',' || quote(lo) || ',' || quote(first) || ',' || quote(c) FROM mixed \
        ORDER BY 1";

    async fn fresh(&self, ddl: &str) -> Box<SqliteConnection> {
        Box::new(memory(ddl).await)
    }

    async fn pool(&self, ddl: &str, connections: u32) -> (SqlitePool, FileDb) {
        let db = FileDb::new(connections, Duration::from_secs(30), ddl).await;
        (db.pool.clone(), db)
    }

    async fn naive_add(pool: &SqlitePool, key: &str) -> Result<(), String> {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let found: Option<i64> = sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = ?1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        tokio::task::yield_now().await;
        let sql = if found.is_some() {
            "UPDATE stats SET runs = runs + 1 WHERE stats_type = ?1"
        } else {
            "INSERT INTO stats (stats_type, runs) VALUES (?1, 1)"
        };
        sqlx::query(sql)
            .bind(key)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn stats(pool: &SqlitePool) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT stats_type, runs FROM stats ORDER BY stats_type")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    async fn rows(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(conn)
            .await
            .unwrap()
    }
}

/// Random batches (repeats, NULL keys, every strategy) equal one by one: counts, rows and
/// per-row outcomes, on the connection and in a transaction.
#[tokio::test]
async fn random_batches_equal_one_by_one_on_sqlite() {
    random_batches_equal_one_by_one(&Lite, 0x5eed_0013, 24).await;
}

/// The conformance suite's race: the naive pattern fails, the derive on a pool is exact.
#[tokio::test]
async fn failures_are_typed_alike_on_sqlite() {
    failures_are_typed_alike(&Lite).await;
}

#[tokio::test]
async fn a_rejected_row_is_typed_and_loses_nothing_on_sqlite() {
    a_rejected_row_is_typed_and_loses_nothing(&Lite).await;
}

#[tokio::test]
async fn a_dropped_call_leaves_the_pool_in_step_on_sqlite() {
    a_dropped_call_leaves_the_pool_in_step(&Lite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_race_is_exact_where_the_naive_pattern_fails_on_sqlite() {
    race_is_exact_where_the_naive_pattern_fails(&Lite).await;
}

/// A guarded struct (`version`, `merge`): each row checked against what the earlier rows
/// left, in one statement per chunk; the same result as one by one too.
#[tokio::test]
async fn guarded_batches_equal_one_by_one() {
    let mut rng = Rng(0xd0c5);
    for round in 0..10 {
        let batch: Vec<Doc> = (0..rng.below(200))
            .map(|_| Doc {
                id: rng.below(20) as i64,
                meta: rng
                    .maybe(5)
                    .map(|v| Json(serde_json::json!({ format!("f{v}"): v, "last": v }))),
                version: rng.below(6) as i64,
            })
            .collect();
        let mut expected = memory(SCHEMA).await;
        let mut outcomes = Vec::new();
        for row in &batch {
            outcomes.push(row.upsert(&mut expected).await.unwrap());
        }
        let mut actual = memory(SCHEMA).await;
        let outcome = Doc::upsert_many(&mut actual, &batch).await.unwrap();
        assert_eq!(outcome, tally(&outcomes), "round {round}");
        let dump = "SELECT id || ':' || quote(meta) || ':' || version FROM docs ORDER BY id";
        let want: Vec<String> = sqlx::query_scalar(dump)
            .fetch_all(&mut expected)
            .await
            .unwrap();
        let got: Vec<String> = sqlx::query_scalar(dump)
            .fetch_all(&mut actual)
            .await
            .unwrap();
        assert_eq!(got, want, "round {round}");
    }
}

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "nocase")]
struct Handle {
    #[conflict_key]
    #[upsert(collate = "NOCASE")]
    name: String,
    #[upsert(add)]
    seen: i64,
}

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "nocase")]
struct HandleBytewise {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    seen: i64,
}

/// Under the table's own key equality (`COLLATE NOCASE`): a batch folds `Ann` and `ANN` as
/// one key once `collate` says so, and `verify` asks for it when it is missing.
#[tokio::test]
async fn a_nocase_key_folds_like_the_index() {
    let schema = "CREATE TABLE nocase (name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY, seen INTEGER NOT NULL)";
    let names = ["Ann", "ann", "BOB", "ANN", "bob", "cy"];
    let rows: Vec<Handle> = names
        .iter()
        .map(|n| Handle {
            name: (*n).into(),
            seen: 1,
        })
        .collect();
    let mut expected = memory(schema).await;
    let mut outcomes = Vec::new();
    for row in &rows {
        outcomes.push(row.upsert(&mut expected).await.unwrap());
    }
    let mut actual = memory(schema).await;
    let outcome = Handle::upsert_many(&mut actual, &rows).await.unwrap();
    assert_eq!(outcome, tally(&outcomes));
    assert_eq!((outcome.inserted, outcome.updated), (3, 3));
    let dump = "SELECT lower(name) || '=' || seen FROM nocase ORDER BY 1";
    let got: Vec<String> = sqlx::query_scalar(dump)
        .fetch_all(&mut actual)
        .await
        .unwrap();
    assert_eq!(got, ["ann=3", "bob=2", "cy=1"]);

    Handle::verify(&mut actual).await.unwrap();
    let Err(Error::SchemaMismatch(report)) = HandleBytewise::verify(&mut actual).await else {
        panic!("verify must report the NOCASE key");
    };
    let text = report.to_string();
    assert!(text.contains(r#"#[upsert(collate = "NOCASE")]"#), "{text}");
}

// ---------------------------------------------------------------------------------------
// Errors: typed, and nothing lost.

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "account")]
struct Account {
    #[conflict_key]
    id: i64,
    email: String,
}

#[tokio::test]
async fn errors_are_typed_and_batches_are_all_or_nothing() {
    let db = FileDb::new(
        2,
        Duration::from_secs(5),
        "CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
    )
    .await;
    let ann = Account {
        id: 1,
        email: "ann@x".into(),
    };
    ann.upsert(&db.pool).await.unwrap();
    // Another unique column clashes: typed, and the stored row stands.
    let clash = Account {
        id: 2,
        email: "ann@x".into(),
    };
    let error = clash.upsert(&db.pool).await.unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains("account.email"), "{error}");
    // A batch with the clash in its last chunk writes nothing at all.
    let mut batch: Vec<Account> = (10..300)
        .map(|id| Account {
            id,
            email: format!("{id}@x"),
        })
        .collect();
    batch.push(clash.clone());
    let error = Account::upsert_many(&db.pool, &batch).await.unwrap_err();
    assert!(
        matches!(&error, Error::Row { index: 290, source } if matches!(**source, Error::UniqueViolation { .. })),
        "the batch names its row: {error:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM account")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the failed batch left nothing");
    // Inside a caller's transaction the batch rolls back to its savepoint; the
    // transaction goes on.
    let mut tx = db.pool.begin().await.unwrap();
    Account {
        id: 5,
        email: "e@x".into(),
    }
    .upsert(&mut *tx)
    .await
    .unwrap();
    assert!(Account::upsert_many(&mut *tx, &batch).await.is_err());
    tx.commit().await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM account ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids, [1, 5]);

    // No unique index for the key: typed, with the index to create.
    sqlx::query("CREATE TABLE loose (k TEXT, v TEXT)")
        .execute(&db.pool)
        .await
        .unwrap();
    #[derive(AtomicUpsert)]
    #[upsert(table = "loose")]
    struct Loose {
        #[conflict_key]
        k: String,
        v: String,
    }
    let error = Loose {
        k: "a".into(),
        v: "b".into(),
    }
    .upsert(&db.pool)
    .await
    .unwrap_err();
    let Error::NoMatchingUniqueIndex { fix, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(
        fix,
        r#"CREATE UNIQUE INDEX "loose_k_key" ON "loose" ("k");"#
    );
    // The pool is still usable.
    Account {
        id: 3,
        email: "c@x".into(),
    }
    .upsert(&db.pool)
    .await
    .unwrap();
}

/// A writer holding the lock past the busy timeout: `Error::Busy`, transient, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_past_the_busy_timeout_is_typed_busy() {
    let db = FileDb::new(2, Duration::from_millis(200), STATS).await;
    let mut holder = db.pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let row = Stats {
        stats_type: "x".into(),
        runs: 1,
    };
    let error = row.upsert(&db.pool).await.unwrap_err();
    assert!(matches!(error, Error::Busy { .. }), "{error:?}");
    assert!(error.is_transient() && !error.may_have_been_applied());
    assert!(error.to_string().contains("retry"), "{error}");
    let error = Stats::upsert_many(&db.pool, std::slice::from_ref(&row))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Busy { .. }), "{error:?}");
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    // Once the lock is gone the same call succeeds.
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Inserted);
}

// ---------------------------------------------------------------------------------------
// verify against SQLite's catalog.

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

#[tokio::test]
async fn verify_reads_sqlites_catalog() {
    let mut conn = memory(
        "CREATE TABLE strava_stats (stats_type TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL);",
    )
    .await;
    StravaStats::verify(&mut conn).await.unwrap();
    Stats::verify(&mut conn).await.unwrap_err();

    // Every problem at once: a missing column, an integer field on a TEXT column, an
    // Option field on NOT NULL, a NOT NULL column never written.
    let mut conn = memory(
        "CREATE TABLE mixed (k TEXT UNIQUE, v TEXT NOT NULL, n TEXT NOT NULL, hi INTEGER, \
         first TEXT, c TEXT, updated_at TEXT NOT NULL, owner TEXT NOT NULL);",
    )
    .await;
    let Err(Error::SchemaMismatch(report)) = Mixed::verify(&mut conn).await else {
        panic!("verify must fail");
    };
    let text = report.to_string();
    for expected in [
        "field `lo`, column \"lo\"",
        "field `n`, column \"n\"",
        "field `v`, column \"v\"",
        "column \"owner\"",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // No unique index for the key: found by preparing the statements.
    let mut conn =
        memory("CREATE TABLE stats (stats_type TEXT NOT NULL, runs INTEGER NOT NULL);").await;
    let Err(Error::SchemaMismatch(report)) = Stats::verify(&mut conn).await else {
        panic!("verify must fail");
    };
    assert!(
        report
            .to_string()
            .contains(r#"CREATE UNIQUE INDEX "stats_stats_type_key""#),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------
// The remaining attributes: rename, skip, created_at, a composite key, a lifetime.

#[derive(AtomicUpsert, Debug, PartialEq)]
#[upsert(table = "visit")]
struct Visit {
    #[conflict_key]
    site: String,
    #[conflict_key]
    #[upsert(rename = "day")]
    date: String,
    #[upsert(add)]
    hits: i64,
    #[upsert(created_at)]
    created_at: (),
    #[upsert(updated_at)]
    updated_at: (),
    #[upsert(skip)]
    note: Option<String>,
}

#[derive(AtomicUpsert)]
#[upsert(table = "visit")]
struct BorrowedVisit<'a> {
    #[conflict_key]
    site: &'a str,
    #[conflict_key]
    #[upsert(rename = "day")]
    date: &'a str,
    #[upsert(add)]
    hits: i64,
}

#[tokio::test]
async fn rename_skip_timestamps_composite_keys_and_borrowed_fields() {
    let mut conn = memory(
        "CREATE TABLE visit (site TEXT NOT NULL, day TEXT NOT NULL, hits INTEGER NOT NULL,
             created_at TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL DEFAULT '', note TEXT,
             PRIMARY KEY (site, day));",
    )
    .await;
    Visit::verify(&mut conn).await.unwrap();
    let visit = |site: &str, date: &str| Visit {
        site: site.into(),
        date: date.into(),
        hits: 1,
        created_at: (),
        updated_at: (),
        note: Some("never written".into()),
    };
    assert_eq!(
        visit("a", "mon").upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        visit("a", "tue").upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    let first: String = sqlx::query_scalar("SELECT created_at FROM visit WHERE day = 'mon'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let borrowed = BorrowedVisit {
        site: "a",
        date: "mon",
        hits: 2,
    };
    assert_eq!(
        borrowed.upsert(&mut conn).await.unwrap(),
        UpsertOutcome::Updated
    );
    let outcome = BorrowedVisit::upsert_many(
        &mut conn,
        &[
            borrowed,
            BorrowedVisit {
                site: "b",
                date: "mon",
                hits: 1,
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (1, 1));
    // `upsert_returning` reads the skipped field back from its column (NULL: never written).
    let stored = visit("a", "mon")
        .upsert_returning(&mut conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.hits, stored.note), (6, None));
    let (created, updated): (String, String) =
        sqlx::query_as("SELECT created_at, updated_at FROM visit WHERE site = 'a' AND day = 'mon'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(created, first, "created_at is written once");
    assert!(
        updated > created,
        "updated_at moves on every write: {updated} vs {created}"
    );
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "acks")]
struct Ack {
    #[conflict_key]
    k: i64,
    #[upsert(add)]
    n: i64,
}

/// An `Ok` means the row is stored: 16 concurrent single-row writers (`upsert` and
/// `upsert_returning`), in the rollback journal and in WAL, with a busy timeout too short
/// to wait out the others and one long enough. Every failure is `Error::Busy` (nothing
/// written), and the acknowledged increments add up to the stored sum exactly.
#[tokio::test]
async fn every_acknowledged_write_is_stored_in_every_journal_mode() {
    for journal in [SqliteJournalMode::Delete, SqliteJournalMode::Wal] {
        for busy in [Duration::from_millis(1), Duration::from_secs(5)] {
            let db = FileDb::with_journal(
                16,
                busy,
                "CREATE TABLE acks (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
                journal,
            )
            .await;
            let barrier = Arc::new(Barrier::new(16));
            let mut handles = Vec::new();
            for task in 0..16_i64 {
                let (pool, barrier) = (db.pool.clone(), barrier.clone());
                handles.push(tokio::spawn(async move {
                    barrier.wait().await;
                    let (mut acked, mut busy_errors) = (0_i64, 0_u32);
                    for i in 0..40_i64 {
                        let row = Ack {
                            k: (task + i) % 4,
                            n: 1,
                        };
                        let done = if i % 2 == 0 {
                            row.upsert(&pool).await.map(drop)
                        } else {
                            row.upsert_returning(&pool).await.map(drop)
                        };
                        match done {
                            Ok(()) => acked += 1,
                            Err(Error::Busy { .. }) => busy_errors += 1,
                            Err(other) => panic!("only Busy may fail a call: {other:?}"),
                        }
                    }
                    (acked, busy_errors)
                }));
            }
            let (mut acked, mut busy_errors) = (0, 0);
            for handle in handles {
                let (a, b) = handle.await.unwrap();
                acked += a;
                busy_errors += b;
            }
            let stored: i64 = sqlx::query_scalar("SELECT coalesce(sum(n), 0) FROM acks")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            assert_eq!(
                stored, acked,
                "{journal:?}, busy timeout {busy:?}: {acked} acknowledged, {stored} stored ({busy_errors} Busy)"
            );
        }
    }
}

/// `statements::<DB>()` gives the statements a call sends on the database it runs on: on
/// SQLite its own (anonymous `?` parameters, the update tried first), not the PostgreSQL
/// constants; and the SQLite statement is the one that runs.
#[tokio::test]
async fn statements_are_the_ones_sent_on_each_backend() {
    let lite = Stats::statements::<sqlx::Sqlite>();
    let pg = Stats::statements::<sqlx::Postgres>();
    assert_eq!(pg.upsert, Stats::UPSERT_SQL);
    assert_ne!(lite.upsert, pg.upsert);
    assert!(lite.upsert.contains("VALUES (?, ?)"), "{}", lite.upsert);
    assert!(!lite.upsert.contains('$'), "{}", lite.upsert);
    assert!(lite.update_first.is_some() && pg.update_first.is_none());
    assert!(
        lite.upsert_many.matches('?').count() > 2,
        "{}",
        lite.upsert_many
    );
    let mut conn = memory(STATS).await;
    sqlx::query(lite.upsert)
        .bind("a")
        .bind(2_i64)
        .execute(&mut conn)
        .await
        .unwrap();
    let row = Stats {
        stats_type: "a".into(),
        runs: 3,
    };
    assert_eq!(row.upsert(&mut conn).await.unwrap(), UpsertOutcome::Updated);
}
