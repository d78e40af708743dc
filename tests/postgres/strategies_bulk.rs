//! `upsert_many` keeps every strategy's and guard's one-by-one semantics.
//!
//! Each test applies a pseudo-random batch (few keys, so keys repeat) twice inside rolled-back
//! transactions over the same seeded table: once row by row with `upsert`, once with
//! `upsert_many` on each path. The stored rows and the counts must be identical.

use atomic_upsert::sqlx::types::Json;
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, BatchOutcome};
use serde_json::json;
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one};

#[derive(AtomicUpsert)]
#[upsert(table = "mixed")]
struct Mixed {
    #[conflict_key]
    k: i32,
    #[upsert(add)]
    hits: i64,
    #[upsert(add)]
    km: f64,
    #[upsert(greatest)]
    hi: i32,
    #[upsert(least)]
    lo: i32,
    // Types with no `max`/`min` aggregate (`bool`), and NULLs, which both ignore.
    #[upsert(greatest)]
    seen: bool,
    #[upsert(least)]
    rank: Option<i32>,
    #[upsert(coalesce)]
    city: Option<String>,
    #[upsert(merge)]
    attrs: Json<serde_json::Value>,
    #[upsert(insert_only)]
    first: i32,
    last: i32,
}

fn mixed(rng: &mut Rng, i: i32) -> Mixed {
    let mut attrs = serde_json::Map::new();
    for name in ["a", "b", "c", "d"] {
        if rng.below(2) == 0 {
            attrs.insert(name.into(), json!(rng.int(100)));
        }
    }
    Mixed {
        k: rng.int(12),
        hits: i64::from(rng.int(10)),
        // Halves add exactly in any order.
        km: f64::from(rng.int(40)) / 2.0,
        hi: rng.int(1000),
        lo: rng.int(1000),
        seen: rng.below(3) == 0,
        rank: (rng.below(3) > 0).then(|| rng.int(50)),
        city: (rng.below(2) == 0).then(|| format!("city{}", rng.int(5))),
        attrs: Json(serde_json::Value::Object(attrs)),
        first: i,
        last: i,
    }
}

const MIXED_TABLE: &str = "CREATE TABLE mixed (k int4 PRIMARY KEY, hits int8 NOT NULL, \
    km float8 NOT NULL, hi int4 NOT NULL, lo int4 NOT NULL, seen bool NOT NULL, rank int4, city text, attrs jsonb NOT NULL, \
    first int4 NOT NULL, last int4 NOT NULL)";

#[tokio::test]
async fn every_strategy_folds_a_batch_as_one_by_one() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seed: Vec<Mixed> = (0..6).map(|i| mixed(&mut rng, -i)).collect();
    let batch: Vec<Mixed> = (0..300).map(|i| mixed(&mut rng, i)).collect();
    let outcome = bulk_matches_one_by_one(&db, MIXED_TABLE, "k", &seed, &batch).await;
    assert_eq!(outcome.total(), 300);
    assert!(outcome.inserted > 0 && outcome.updated > 250, "{outcome:?}");
    db.finish().await;
}

#[tokio::test]
async fn a_counter_key_twice_in_a_batch_adds_both() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(MIXED_TABLE).execute(&db.pool).await.unwrap();
    let row = |hits| Mixed {
        k: 1,
        hits,
        km: 0.5,
        hi: 0,
        lo: 0,
        seen: false,
        rank: None,
        city: None,
        attrs: Json(json!({})),
        first: 0,
        last: 0,
    };
    let outcome = Mixed::upsert_many(&db.pool, &[row(3), row(4)])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 1,
            updated: 1,
            skipped: 0
        }
    );
    Mixed::upsert_many(&db.pool, &[row(10), row(20)])
        .await
        .unwrap();
    let (hits, km): (i64, f64) = sqlx::query_as("SELECT hits, km FROM mixed")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((hits, km), (37, 2.0));
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "ledger")]
struct Ledger {
    #[conflict_key]
    k: i32,
    #[upsert(version)]
    v: i32,
    payload: String,
    #[upsert(add)]
    n: i64,
    #[upsert(coalesce)]
    c: Option<i32>,
    #[upsert(greatest)]
    g: i32,
    #[upsert(merge)]
    m: Json<serde_json::Value>,
    #[upsert(insert_only)]
    born: i32,
}

fn ledger(rng: &mut Rng, i: i32) -> Ledger {
    Ledger {
        k: rng.int(10),
        v: rng.int(25),
        payload: format!("p{i}"),
        n: i64::from(rng.int(5)) + 1,
        c: (rng.below(3) == 0).then(|| rng.int(100)),
        g: rng.int(100),
        m: Json(json!({ format!("x{}", rng.int(3)): i })),
        born: i,
    }
}

#[tokio::test]
async fn version_guard_in_a_batch_applies_only_newer_rows_and_counts_stale_as_skipped() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(42);
    let seed: Vec<Ledger> = (0..5).map(|i| ledger(&mut rng, -i)).collect();
    let batch: Vec<Ledger> = (0..250).map(|i| ledger(&mut rng, i)).collect();
    let outcome = bulk_matches_one_by_one(
        &db,
        "CREATE TABLE ledger (k int4 PRIMARY KEY, v int4 NOT NULL, payload text NOT NULL, \
         n int8 NOT NULL, c int4, g int4 NOT NULL, m jsonb NOT NULL, born int4 NOT NULL)",
        "k",
        &seed,
        &batch,
    )
    .await;
    assert!(outcome.skipped > 100, "most rows are stale: {outcome:?}");
    assert!(outcome.updated > 0 && outcome.inserted > 0, "{outcome:?}");
    db.finish().await;
}

#[tokio::test]
async fn skip_unchanged_and_update_where_in_a_batch() {
    #[derive(AtomicUpsert)]
    #[upsert(table = "item", skip_unchanged, update_where = "NOT item.frozen")]
    struct Item {
        #[conflict_key]
        k: i32,
        v: i32,
        #[upsert(add)]
        seen: i32,
    }
    let db = TestDb::new(2).await;
    let mut rng = Rng(7);
    let item = |rng: &mut Rng, k| Item {
        k,
        v: rng.int(2),
        seen: rng.int(2),
    };
    let seed: Vec<Item> = (0..40).map(|k| item(&mut rng, k)).collect();
    // One row per key: a key's rows are checked once, against its folded row.
    let batch: Vec<Item> = (0..80).map(|k| item(&mut rng, k)).collect();
    let outcome = bulk_matches_one_by_one(
        &db,
        "CREATE TABLE item (k int4 PRIMARY KEY, v int4 NOT NULL, seen int4 NOT NULL, \
         frozen bool NOT NULL GENERATED ALWAYS AS (k % 5 = 0) STORED)",
        "k",
        &seed,
        &batch,
    )
    .await;
    assert_eq!(outcome.inserted, 40);
    // 8 frozen keys (k % 5 = 0 among the 40 seeded), plus the unchanged rows.
    assert!(
        outcome.skipped > 8,
        "frozen and unchanged rows: {outcome:?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn partial_index_and_constraint_targets_in_a_batch() {
    #[derive(AtomicUpsert)]
    #[upsert(table = "users", conflict_where = "NOT deleted")]
    struct User {
        #[conflict_key]
        email: String,
        #[upsert(add)]
        logins: i32,
        deleted: bool,
    }
    #[derive(AtomicUpsert)]
    #[upsert(table = "auth", constraint = "auth_athlete_key")]
    struct Auth {
        #[conflict_key]
        athlete: i32,
        token: String,
    }
    let db = TestDb::new(2).await;
    let user = |email: &str, deleted| User {
        email: email.into(),
        logins: 1,
        deleted,
    };
    bulk_matches_one_by_one(
        &db,
        "CREATE TABLE users (id serial, email text NOT NULL, logins int4 NOT NULL, \
         deleted bool NOT NULL); \
         CREATE UNIQUE INDEX ON users (email) WHERE NOT deleted",
        "email, deleted",
        &[user("a@x", false), user("b@x", true)],
        &[
            user("a@x", false),
            user("b@x", false),
            user("c@x", false),
            user("b@x", false),
        ],
    )
    .await;
    let auth = |athlete, token: &str| Auth {
        athlete,
        token: token.into(),
    };
    let outcome = bulk_matches_one_by_one(
        &db,
        "CREATE TABLE auth (athlete int4 CONSTRAINT auth_athlete_key UNIQUE, token text)",
        "athlete",
        &[auth(1, "a")],
        &[auth(1, "b"), auth(2, "c"), auth(2, "d")],
    )
    .await;
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 1,
            updated: 2,
            skipped: 0
        }
    );
    db.finish().await;
}
