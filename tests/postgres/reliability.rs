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
