//! Reliability regressions: a batch is exactly one-by-one application under the table's own
//! key rules, on both bulk paths.

use atomic_upsert::sqlx;
use atomic_upsert::{AtomicUpsert, BatchOutcome, BulkPath};
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one};

#[derive(AtomicUpsert)]
#[upsert(table = "null_keys")]
struct NullKey {
    #[conflict_key]
    k: Option<String>,
    v: i64,
}

const NULL_KEYS: &str = "CREATE TABLE null_keys (k text UNIQUE, v int8 NOT NULL)";

#[tokio::test]
async fn rows_with_null_keys_are_never_folded_on_either_path() {
    let db = TestDb::new(1).await;
    // The report's case: one by one gives three rows; the batch used to give two.
    let rows = [
        NullKey { k: None, v: 1 },
        NullKey {
            k: Some("x".into()),
            v: 2,
        },
        NullKey { k: None, v: 3 },
    ];
    let outcome = bulk_matches_one_by_one(&db, NULL_KEYS, "k, v", &[], &rows).await;
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 3,
            updated: 0,
            skipped: 0
        }
    );
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        sqlx::query("TRUNCATE null_keys")
            .execute(&db.pool)
            .await
            .unwrap();
        NullKey::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM null_keys WHERE k IS NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 2, "{path:?}");
    }
    db.finish().await;
}

#[tokio::test]
async fn random_batches_with_null_keys_match_one_by_one() {
    let db = TestDb::new(1).await;
    let mut rng = Rng(0x5EED_0001);
    let row = |rng: &mut Rng| NullKey {
        k: (rng.below(3) != 0).then(|| format!("k{}", rng.int(6))),
        v: i64::from(rng.int(1000)),
    };
    let seed: Vec<NullKey> = (0..4).map(|_| row(&mut rng)).collect();
    let batch: Vec<NullKey> = (0..200).map(|_| row(&mut rng)).collect();
    let outcome = bulk_matches_one_by_one(&db, NULL_KEYS, "k, v", &seed, &batch).await;
    assert_eq!(outcome.total(), 200);
    assert!(outcome.inserted > 50, "{outcome:?}");
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "null_keys_guarded")]
struct NullKeyVersioned {
    #[conflict_key]
    team: i64,
    #[conflict_key]
    slot: Option<i32>,
    #[upsert(version)]
    seq: i64,
}

#[tokio::test]
async fn null_keys_under_a_version_guard_count_like_one_by_one() {
    let db = TestDb::new(1).await;
    let mut rng = Rng(0x5EED_0002);
    let row = |rng: &mut Rng| NullKeyVersioned {
        team: i64::from(rng.int(3)),
        slot: (rng.below(2) == 0).then(|| rng.int(3)),
        seq: i64::from(rng.int(50)),
    };
    let seed: Vec<NullKeyVersioned> = (0..5).map(|_| row(&mut rng)).collect();
    let batch: Vec<NullKeyVersioned> = (0..150).map(|_| row(&mut rng)).collect();
    let outcome = bulk_matches_one_by_one(
        &db,
        "CREATE TABLE null_keys_guarded (team int8 NOT NULL, slot int4, seq int8 NOT NULL, UNIQUE (team, slot))",
        "team, slot, seq",
        &seed,
        &batch,
    )
    .await;
    assert!(outcome.skipped > 0 && outcome.inserted > 0, "{outcome:?}");
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "null_keys_nnd", nulls_not_distinct)]
struct NullKeyNotDistinct {
    #[conflict_key]
    k: Option<String>,
    v: i64,
}

#[tokio::test]
async fn nulls_not_distinct_folds_null_keys_like_the_index() {
    let db = TestDb::new(1).await;
    let mut rng = Rng(0x5EED_0003);
    let row = |rng: &mut Rng| NullKeyNotDistinct {
        k: (rng.below(2) == 0).then(|| format!("k{}", rng.int(4))),
        v: i64::from(rng.int(1000)),
    };
    let batch: Vec<NullKeyNotDistinct> = (0..120).map(|_| row(&mut rng)).collect();
    let outcome = bulk_matches_one_by_one(
        &db,
        "CREATE TABLE null_keys_nnd (k text UNIQUE NULLS NOT DISTINCT, v int8 NOT NULL)",
        "k, v",
        &[],
        &batch,
    )
    .await;
    // At most four keys plus the one NULL key.
    assert!(outcome.inserted <= 5, "{outcome:?}");
    NullKeyNotDistinct::verify(&db.pool).await.unwrap();
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "checked")]
struct Checked {
    #[conflict_key]
    id: i64,
    v: i64,
    note: Option<String>,
}

const CHECKED: &str = "CREATE TABLE checked (id int8 PRIMARY KEY, v int8 NOT NULL CHECK (v >= 0), note text NOT NULL DEFAULT '')";

fn checked_rows(n: i64) -> Vec<Checked> {
    (0..n)
        .map(|id| Checked {
            id,
            v: id,
            note: Some(String::new()),
        })
        .collect()
}

#[tokio::test]
async fn a_failed_batch_in_a_transaction_has_one_effect_on_both_paths() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(CHECKED).execute(&db.pool).await.unwrap();
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let mut tx = db.pool.begin().await.unwrap();
        sqlx::query("INSERT INTO checked VALUES (-1, 1, 'mine')")
            .execute(&mut *tx)
            .await
            .unwrap();
        let mut rows = checked_rows(50);
        rows[20].v = -5;
        let error = Checked::upsert_many_via(&mut *tx, &rows, path)
            .await
            .expect_err("the CHECK fails the batch");
        assert_eq!(error.sqlstate(), Some("23514"), "{path:?}: {error}");
        // The transaction goes on: the batch rolled back to its savepoint, nothing else.
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM checked")
            .fetch_one(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{path:?}: the caller's transaction was aborted: {e}"));
        assert_eq!(n, 1, "{path:?}");
        tx.commit().await.unwrap();
        let mine: i64 = sqlx::query_scalar("SELECT count(*) FROM checked WHERE note = 'mine'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(mine, 1, "{path:?}: the caller's own write was lost");
        sqlx::query("TRUNCATE checked")
            .execute(&db.pool)
            .await
            .unwrap();
    }
    db.finish().await;
}

#[tokio::test]
async fn copy_names_the_row_for_a_check_or_not_null_and_no_row_for_a_timeout() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(CHECKED).execute(&db.pool).await.unwrap();
    let mut rows = checked_rows(100);
    rows[37].v = -1;
    match Checked::upsert_many_via(&db.pool, &rows, BulkPath::Copy).await {
        Err(atomic_upsert::Error::Row { index, source }) => {
            assert_eq!(index, 37);
            assert_eq!(source.sqlstate(), Some("23514"));
        }
        other => panic!("expected Row 37, got {other:?}"),
    }
    let mut rows = checked_rows(100);
    rows[12].note = None;
    match Checked::upsert_many_via(&db.pool, &rows, BulkPath::Copy).await {
        Err(atomic_upsert::Error::Row { index, source }) => {
            assert_eq!(index, 12);
            assert_eq!(source.sqlstate(), Some("23502"));
        }
        other => panic!("expected Row 12, got {other:?}"),
    }
    // A statement timeout names a line of the COPY too, but no row is at fault.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL statement_timeout = '1ms'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let error = Checked::upsert_many_via(&mut *tx, &checked_rows(60_000), BulkPath::Copy)
        .await
        .expect_err("1 ms is too short for 60,000 rows");
    assert!(
        !matches!(error, atomic_upsert::Error::Row { .. }),
        "{error}"
    );
    assert_eq!(error.sqlstate(), Some("57014"), "{error}");
    tx.rollback().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM checked")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    db.finish().await;
}

/// A BEFORE trigger that returns NULL skips a row unseen by the statement. The stored rows
/// are right; the counts stay whole (they sum to the batch) and the inserts are exact, but a
/// skipped key's repeats count as updates (documented: the unguarded statement takes its
/// distinct keys from the written ones, to keep the fast plan).
#[tokio::test]
async fn a_trigger_that_skips_rows_keeps_the_counts_whole() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE checked (id int8 PRIMARY KEY, v int8 NOT NULL, note text NOT NULL DEFAULT ''); \
         CREATE FUNCTION skip_odd() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER skip_odd BEFORE INSERT OR UPDATE ON checked FOR EACH ROW EXECUTE FUNCTION skip_odd()",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let mut rows = checked_rows(40);
        rows.extend(checked_rows(10)); // 10 repeated keys
        let outcome = Checked::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap();
        assert_eq!(outcome.total(), 50, "{path:?}: {outcome:?}");
        assert_eq!(outcome.inserted, 20, "{path:?}: {outcome:?}");
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM checked")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(stored, 20, "{path:?}");
        sqlx::query("TRUNCATE checked")
            .execute(&db.pool)
            .await
            .unwrap();
    }
    db.finish().await;
}

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "accounts")]
struct Account {
    #[conflict_key]
    email: String,
    plan: String,
}

const ACCOUNTS: &str = "CREATE TABLE accounts (email text PRIMARY KEY, plan text NOT NULL)";

#[tokio::test]
async fn insert_or_get_under_a_race_inserts_once_and_everyone_sees_that_row() {
    use atomic_upsert::Obtained;
    let db = TestDb::new(16).await;
    sqlx::raw_sql(ACCOUNTS).execute(&db.pool).await.unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for task in 0..16 {
        let (pool, barrier) = (db.pool.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            barrier.wait().await;
            let wanted = Account {
                email: "ann@example.com".into(),
                plan: format!("plan-{task}"),
            };
            wanted.insert_or_get(&mut *conn).await.unwrap()
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let inserted: Vec<&Account> = results
        .iter()
        .filter(|(_, how)| *how == Obtained::Inserted)
        .map(|(row, _)| row)
        .collect();
    assert_eq!(inserted.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(row, _)| row == inserted[0]),
        "{results:?}"
    );
    // Existing rows are read, never written: the row version is the insert's.
    let xmin_before: String = sqlx::query_scalar("SELECT xmin::text FROM accounts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let again = Account {
        email: "ann@example.com".into(),
        plan: "other".into(),
    };
    let (row, how) = again.insert_or_get(&db.pool).await.unwrap();
    assert_eq!(
        (row.plan.as_str(), how),
        (inserted[0].plan.as_str(), Obtained::Existing)
    );
    let xmin_after: String = sqlx::query_scalar("SELECT xmin::text FROM accounts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(xmin_after, xmin_before);
    db.finish().await;
}

#[tokio::test]
async fn insert_or_get_under_concurrent_deletes_never_hangs() {
    let db = TestDb::new(6).await;
    sqlx::raw_sql(ACCOUNTS).execute(&db.pool).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deleter = {
        let (pool, stop) = (db.pool.clone(), stop.clone());
        tokio::spawn(async move {
            let mut deletes = 0_u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let done = sqlx::query("DELETE FROM accounts")
                    .execute(&pool)
                    .await
                    .unwrap();
                deletes += done.rows_affected();
            }
            deletes
        })
    };
    let mut tasks = Vec::new();
    for task in 0..4 {
        let pool = db.pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for round in 0..200 {
                let wanted = Account {
                    email: "bob@example.com".into(),
                    plan: format!("{task}-{round}"),
                };
                match wanted.insert_or_get(&pool).await {
                    Ok(_) => ok += 1,
                    Err(atomic_upsert::Error::Contended { .. }) => {}
                    Err(other) => panic!("{other}"),
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += tokio::time::timeout(std::time::Duration::from_mins(1), task)
            .await
            .expect("insert_or_get never loops forever")
            .unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rows_deleted = deleter.await.unwrap();
    assert!(
        ok > 0 && rows_deleted > 0,
        "ok {ok}, deleted {rows_deleted}"
    );
    db.finish().await;
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "widths")]
struct Width {
    #[conflict_key]
    id: i64,
    total: i64,
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "labels")]
struct Label {
    #[conflict_key]
    id: i64,
    label: String,
}

/// A placeholder field (`()`) for a server timestamp reads back as `()`.
#[derive(AtomicUpsert, Debug)]
#[upsert(table = "stamped")]
struct Stamped {
    #[conflict_key]
    id: i64,
    #[upsert(updated_at)]
    at: (),
}

/// A field of a common type read from a column it does not fit: the cast fails the
/// statement before anything is written.
#[derive(AtomicUpsert, Debug)]
#[upsert(table = "stamped")]
struct StampedAsBool {
    #[conflict_key]
    id: i64,
    #[upsert(skip)]
    at: bool,
}

/// A JSON field (never cast) read from a column it does not fit: the decode fails after
/// the write.
#[derive(AtomicUpsert, Debug)]
#[upsert(table = "stamped")]
struct StampedAsJson {
    #[conflict_key]
    id: i64,
    #[upsert(skip)]
    at: sqlx::types::Json<serde_json::Value>,
}

#[tokio::test]
async fn returned_rows_read_back_through_casts_and_an_unreadable_one_says_it_was_applied() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE widths (id int8 PRIMARY KEY, total int4 NOT NULL); \
         CREATE TABLE stamped (id int8 PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // `integer` read as `i64`: the RETURNING list casts it, so no error after the write.
    let stored = Width { id: 1, total: 7 }
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.total, 7);
    // A `()` placeholder holds nothing to read.
    Stamped { id: 1, at: () }
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    // A common type that does not fit: the cast fails the statement, nothing is written.
    let error = StampedAsBool { id: 2, at: true }
        .upsert_returning(&db.pool)
        .await
        .expect_err("a timestamptz does not cast to bool");
    assert_eq!(error.sqlstate(), Some("42846"), "{error}");
    assert!(!error.may_have_been_applied(), "{error}");
    // A JSON field is read as it comes: the error says the write stands.
    let json = sqlx::types::Json(serde_json::Value::Null);
    let error = StampedAsJson { id: 3, at: json }
        .upsert_returning(&db.pool)
        .await
        .expect_err("a timestamptz does not decode into JSON");
    assert!(
        matches!(error, atomic_upsert::Error::Unreadable { .. }),
        "{error}"
    );
    assert!(
        error.may_have_been_applied() && !error.is_transient(),
        "{error}"
    );
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM stamped ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        ids,
        [1, 3],
        "row 2 was never written; row 3 was, as its error says"
    );
    db.finish().await;
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "docs")]
struct Doc {
    #[conflict_key]
    id: i64,
    body: sqlx::types::Json<serde_json::Value>,
}

#[tokio::test]
async fn a_statement_gone_stale_after_alter_table_is_typed_and_retry_recovers() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE labels (id int8 PRIMARY KEY, label text NOT NULL); \
         CREATE TABLE docs (id int8 PRIMARY KEY, body jsonb NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let label = |id: i64| Label {
        id,
        label: format!("l{id}"),
    };
    let doc = |id: i64| Doc {
        id,
        body: sqlx::types::Json(serde_json::json!({ "id": id })),
    };
    label(1).upsert_returning(&db.pool).await.unwrap();
    doc(1).upsert_returning(&db.pool).await.unwrap();
    sqlx::raw_sql(
        "ALTER TABLE labels ALTER COLUMN label TYPE varchar(100); \
         ALTER TABLE docs ALTER COLUMN body TYPE json",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // A cast column keeps its result type: the cached statement stays valid.
    label(2).upsert_returning(&db.pool).await.unwrap();
    // A JSON column is returned as it is (a cast would change json into jsonb): the one
    // pooled connection's cached statement went stale. Inside a transaction, where sqlx
    // 0.9.1 and later, which prepare a stale statement again on their own outside one,
    // cannot either, it is an error on every sqlx 0.9.
    let mut tx = db.pool.begin().await.unwrap();
    let error = doc(2)
        .upsert_returning(&mut *tx)
        .await
        .expect_err("the cached plan is stale");
    assert!(
        matches!(error, atomic_upsert::Error::StaleStatement { .. }),
        "{error}"
    );
    assert!(error.is_transient() && !error.may_have_been_applied());
    tx.rollback().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM docs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1, "nothing was applied");
    let stored = atomic_upsert::Retry::default()
        .upsert_returning(&db.pool, &doc(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.body.0["id"], 2);
    // And the connection is healthy again for plain calls.
    doc(3).upsert_returning(&db.pool).await.unwrap();
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "hits")]
struct Hit {
    #[conflict_key]
    page: String,
    #[upsert(add)]
    n: i64,
}

#[tokio::test]
async fn retry_timeout_cancels_on_the_server_so_nothing_is_applied() {
    let db = TestDb::new(3).await;
    sqlx::raw_sql("CREATE TABLE hits (page text PRIMARY KEY, n int8 NOT NULL); INSERT INTO hits VALUES ('/', 0)")
        .execute(&db.pool)
        .await
        .unwrap();
    // Another transaction holds the row: every attempt waits, and is cancelled by the server.
    let mut holder = db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM hits WHERE page = '/' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let retry = atomic_upsert::Retry::default()
        .attempts(3)
        .timeout(std::time::Duration::from_millis(50));
    let error = retry
        .upsert(
            &db.pool,
            &Hit {
                page: "/".into(),
                n: 1,
            },
        )
        .await
        .expect_err("the row stays locked");
    assert!(
        matches!(
            error,
            atomic_upsert::Error::TimedOut {
                may_have_been_applied: false,
                ..
            }
        ),
        "{error}"
    );
    holder.rollback().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT n FROM hits")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "three cancelled attempts applied nothing");
    // Unlocked, the same policy succeeds once.
    retry
        .upsert(
            &db.pool,
            &Hit {
                page: "/".into(),
                n: 1,
            },
        )
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT n FROM hits")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "ci_emails")]
struct CiEmail {
    #[conflict_key]
    #[upsert(sql_type = "au_ext.citext")]
    email: String,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(table = "collated_emails")]
struct CollatedEmail {
    #[conflict_key]
    #[upsert(collate = "ci_level2")]
    email: String,
    name: String,
}

fn spellings(rng: &mut Rng) -> String {
    let base = ["ann@example.com", "bob@example.com", "cy@example.com"]
        [usize::try_from(rng.below(3)).unwrap()];
    base.chars()
        .map(|c| {
            if rng.below(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

#[tokio::test]
async fn keys_equal_under_citext_or_a_collation_fold_like_one_by_one() {
    let db = TestDb::new(1).await;
    crate::support::citext(&db).await;
    let citext = "CREATE TABLE ci_emails (email au_ext.citext PRIMARY KEY, name text NOT NULL)";
    // The report's case first: two spellings of one key in one batch.
    let pair = [
        CiEmail {
            email: "Ann@Example.com".into(),
            name: "a".into(),
        },
        CiEmail {
            email: "ann@example.COM".into(),
            name: "b".into(),
        },
    ];
    let outcome = bulk_matches_one_by_one(&db, citext, "email", &[], &pair).await;
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 1,
            updated: 1,
            skipped: 0
        }
    );
    let mut rng = Rng(0x5EED_0004);
    let batch: Vec<CiEmail> = (0..120)
        .map(|i| CiEmail {
            email: spellings(&mut rng),
            name: format!("n{i}"),
        })
        .collect();
    let again = format!("DROP TABLE IF EXISTS ci_emails; {citext}");
    let outcome = bulk_matches_one_by_one(&db, &again, "email", &[], &batch).await;
    assert!(outcome.inserted <= 3, "{outcome:?}");
    CiEmail::verify(&db.pool).await.unwrap();

    let collated = "CREATE COLLATION IF NOT EXISTS ci_level2 (provider = icu, locale = 'und-u-ks-level2', deterministic = false); \
        CREATE TABLE collated_emails (email text COLLATE ci_level2 PRIMARY KEY, name text NOT NULL)";
    let batch: Vec<CollatedEmail> = (0..120)
        .map(|i| CollatedEmail {
            email: spellings(&mut rng),
            name: format!("n{i}"),
        })
        .collect();
    let outcome = bulk_matches_one_by_one(&db, collated, "email", &[], &batch).await;
    assert!(outcome.inserted <= 3, "{outcome:?}");
    CollatedEmail::verify(&db.pool).await.unwrap();
    db.finish().await;
}

/// A serialization failure inside a caller's REPEATABLE READ transaction, on every path:
/// typed as transient, and its message tells the caller to retry the whole transaction.
#[tokio::test]
async fn a_transient_error_in_a_transaction_says_to_retry_the_transaction() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(NULL_KEYS).execute(&db.pool).await.unwrap();
    let row = |v| NullKey {
        k: Some("a".into()),
        v,
    };
    for path in [None, Some(BulkPath::Unnest), Some(BulkPath::Copy)] {
        row(1).upsert(&db.pool).await.unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        sqlx::raw_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM null_keys",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        // Another session changes the row after this transaction's snapshot.
        row(2).upsert(&db.pool).await.unwrap();
        let error = match path {
            None => row(3).upsert(&mut *tx).await.unwrap_err(),
            Some(path) => NullKey::upsert_many_via(&mut *tx, &[row(3)], path)
                .await
                .unwrap_err(),
        };
        assert_eq!(error.sqlstate(), Some("40001"), "{path:?}: {error}");
        assert!(error.is_transient(), "{path:?}");
        assert!(!error.may_have_been_applied(), "{path:?}");
        assert!(
            error.to_string().contains("retry the whole transaction"),
            "{path:?}: {error}"
        );
        tx.rollback().await.unwrap();
        let v: i64 = sqlx::query_scalar("SELECT v FROM null_keys WHERE k = 'a'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(v, 2, "{path:?}");
    }
    db.finish().await;
}
