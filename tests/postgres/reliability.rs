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
