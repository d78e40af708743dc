//! Nullable counters: `#[upsert(add, nulls = "zero")]` (a NULL counts as 0) and
//! `#[upsert(add, nulls = "propagate")]` (NULL + n is NULL, SQL's and Diesel's rule), on
//! nullable columns, over stored NULLs: `verify` is clean, and every path stores what one
//! by one does (single row, `upsert_many` on UNNEST and on COPY, in-batch duplicates).

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx;
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one};

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "room_stats")]
struct ZeroCounts {
    #[conflict_key]
    room: i32,
    /// An `Option` counter: a `None` adds nothing, a stored NULL counts as 0.
    #[upsert(add, nulls = "zero")]
    joined: Option<i64>,
    /// A non-`Option` counter over a nullable column (stored NULLs from another writer).
    #[upsert(add, nulls = "zero")]
    messages: i32,
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "room_stats")]
struct PropagatedCounts {
    #[conflict_key]
    room: i32,
    #[upsert(add, nulls = "propagate")]
    joined: Option<i64>,
    #[upsert(add, nulls = "zero")]
    messages: i32,
}

const ROOM_STATS: &str =
    "CREATE TABLE room_stats (room int4 PRIMARY KEY, joined int8, messages int4)";

fn maybe(rng: &mut Rng) -> Option<i64> {
    (rng.below(3) > 0).then(|| i64::from(rng.int(10)))
}

#[tokio::test]
async fn nullable_counters_verify_and_read_back_over_stored_nulls() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(ROOM_STATS).execute(&db.pool).await.unwrap();
    ZeroCounts::verify(&db.pool).await.unwrap();
    PropagatedCounts::verify(&db.pool).await.unwrap();
    sqlx::query("INSERT INTO room_stats VALUES (1, NULL, NULL), (2, NULL, NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let zero = ZeroCounts {
        room: 1,
        joined: Some(2),
        messages: 3,
    }
    .upsert_returning(&db.pool)
    .await
    .unwrap()
    .unwrap();
    assert_eq!((zero.joined, zero.messages), (Some(2), 3));
    let zero = ZeroCounts {
        room: 1,
        joined: None,
        messages: 1,
    }
    .upsert_returning(&db.pool)
    .await
    .unwrap()
    .unwrap();
    assert_eq!((zero.joined, zero.messages), (Some(2), 4));
    let propagated = PropagatedCounts {
        room: 2,
        joined: Some(2),
        messages: 3,
    }
    .upsert_returning(&db.pool)
    .await
    .unwrap()
    .unwrap();
    assert_eq!((propagated.joined, propagated.messages), (None, 3));
    // The statements say which rule they apply.
    assert!(
        ZeroCounts::UPSERT_SQL
            .contains(r#"COALESCE("room_stats"."joined", 0) + COALESCE(EXCLUDED."joined", 0)"#)
    );
    assert!(PropagatedCounts::UPSERT_SQL.contains(r#""room_stats"."joined" + EXCLUDED."joined""#));
    db.finish().await;
}

#[tokio::test]
async fn nullable_counter_batches_match_one_by_one_on_both_paths() {
    let mut rng = Rng(0x5eed_c0de);
    for round in 0..6 {
        let db = TestDb::new(1).await;
        let seed: Vec<ZeroCounts> = (0..3)
            .map(|room| ZeroCounts {
                room,
                joined: maybe(&mut rng),
                messages: rng.int(5),
            })
            .collect();
        let batch: Vec<ZeroCounts> = (0..40)
            .map(|_| ZeroCounts {
                room: rng.int(6),
                joined: maybe(&mut rng),
                messages: rng.int(5),
            })
            .collect();
        // Stored NULLs from another writer, in the seeded rows too.
        let create = format!("{ROOM_STATS}; INSERT INTO room_stats VALUES (10{round}, NULL, NULL)");
        bulk_matches_one_by_one(&db, &create, "room", &seed, &batch).await;
        db.finish().await;

        let db = TestDb::new(1).await;
        let seed: Vec<PropagatedCounts> = (0..3)
            .map(|room| PropagatedCounts {
                room,
                joined: maybe(&mut rng),
                messages: rng.int(5),
            })
            .collect();
        let batch: Vec<PropagatedCounts> = (0..40)
            .map(|_| PropagatedCounts {
                room: rng.int(6),
                joined: maybe(&mut rng),
                messages: rng.int(5),
            })
            .collect();
        bulk_matches_one_by_one(&db, ROOM_STATS, "room", &seed, &batch).await;
        db.finish().await;
    }
}
