//! Presorted batches: distinct keys, sorted by the client and written with no fold and no
//! server sort. They must leave what applying the rows one by one leaves, name the caller's
//! row when one is at fault, and lock rows in the order a folded batch does, whatever the
//! database's collation.

use std::collections::HashSet;

use atomic_upsert::sqlx::postgres::PgPoolOptions;
use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, BulkPath, Error};
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one, concurrent_rounds, snapshot};

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "ps_tag")]
struct Tag {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    n: i64,
    note: Option<String>,
    #[upsert(insert_only)]
    first: i32,
}

const TAG: &str = "DROP TABLE IF EXISTS ps_tag; \
    CREATE TABLE ps_tag (name text PRIMARY KEY, n int8 NOT NULL, note text, first int4 NOT NULL)";

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "ps_slot")]
struct Slot {
    #[conflict_key]
    zone: Option<i64>,
    #[conflict_key]
    code: String,
    v: i32,
}

const SLOT: &str = "DROP TABLE IF EXISTS ps_slot; \
    CREATE TABLE ps_slot (id bigserial, zone int8, code text NOT NULL, v int4 NOT NULL, UNIQUE (zone, code))";

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "ps_slot_nnd", nulls_not_distinct)]
struct SlotNnd {
    #[conflict_key]
    zone: Option<i64>,
    #[conflict_key]
    code: String,
    v: i32,
}

const SLOT_NND: &str = "DROP TABLE IF EXISTS ps_slot_nnd; \
    CREATE TABLE ps_slot_nnd (id bigserial, zone int8, code text NOT NULL, v int4 NOT NULL, \
    UNIQUE NULLS NOT DISTINCT (zone, code))";

/// A key whose byte order and collation order can differ: case, accents, punctuation.
fn word(rng: &mut Rng) -> String {
    const PARTS: [&str; 8] = ["a", "B", "é", "_", "Z", "ö", "b", "A"];
    (0..=rng.below(3))
        .map(|_| PARTS[usize::try_from(rng.below(8)).unwrap()])
        .collect()
}

/// Up to `n` distinct words, in generation (random) order.
fn distinct_words(rng: &mut Rng, n: u64) -> Vec<String> {
    let mut seen = HashSet::new();
    (0..n)
        .map(|_| word(rng))
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

#[tokio::test]
async fn distinct_keys_in_any_order_match_one_by_one_on_both_paths() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..12 {
        let size = rng.below(400);
        let words = distinct_words(&mut rng, size);
        let tag = |name: &String, rng: &mut Rng| Tag {
            name: name.clone(),
            n: i64::from(rng.int(50)),
            note: (rng.below(3) > 0).then(|| format!("r{round}")),
            first: round,
        };
        let mut seed = Vec::new();
        for w in &words {
            if rng.below(2) == 0 {
                seed.push(tag(w, &mut rng));
            }
        }
        let batch: Vec<Tag> = words.iter().map(|w| tag(w, &mut rng)).collect();
        bulk_matches_one_by_one(&db, TAG, "name COLLATE \"C\"", &seed, &batch).await;
    }
    db.finish().await;
}

/// Rows of `(zone, code)` keys: NULL zones repeat freely (such a key never conflicts, unless
/// the struct says `nulls_not_distinct`); a non-NULL key at most once when `distinct`.
fn slots(rng: &mut Rng, n: u64, distinct: bool) -> Vec<(Option<i64>, String, i32)> {
    let mut seen = HashSet::new();
    (0..n)
        .map(|_| {
            let zone = (rng.below(3) > 0).then(|| i64::try_from(rng.below(4)).unwrap());
            (zone, word(rng), rng.int(1000))
        })
        .filter(|(zone, code, _)| !distinct || zone.is_none() || seen.insert((*zone, code.clone())))
        .collect()
}

#[tokio::test]
async fn null_keys_go_presorted_only_where_they_never_conflict() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let order = "zone NULLS FIRST, code COLLATE \"C\", v";
    for _ in 0..10 {
        let seed = slots(&mut rng, 60, true);
        let size = rng.below(300);
        let batch = slots(&mut rng, size, true);
        let slot = |(zone, code, v): &(Option<i64>, String, i32)| Slot {
            zone: *zone,
            code: code.clone(),
            v: *v,
        };
        let seed_rows: Vec<Slot> = seed.iter().map(slot).collect();
        let rows: Vec<Slot> = batch.iter().map(slot).collect();
        bulk_matches_one_by_one(&db, SLOT, order, &seed_rows, &rows).await;

        // The same rows where NULLs are equal: a repeated NULL key is folded by the server.
        let nnd = |(zone, code, v): &(Option<i64>, String, i32)| SlotNnd {
            zone: *zone,
            code: code.clone(),
            v: *v,
        };
        let seed_rows: Vec<SlotNnd> = seed.iter().map(nnd).collect();
        let rows: Vec<SlotNnd> = batch.iter().map(nnd).collect();
        bulk_matches_one_by_one(&db, SLOT_NND, order, &seed_rows, &rows).await;
    }
    db.finish().await;
}

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "ps_checked")]
struct Checked {
    #[conflict_key]
    name: String,
    n: i64,
}

#[tokio::test]
async fn a_fault_in_a_shuffled_batch_names_the_callers_row_and_leaves_the_table() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE ps_checked (name text PRIMARY KEY, n int8 NOT NULL CHECK (n >= 0))",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let seed: Vec<Checked> = (0..50)
        .map(|i| Checked {
            name: format!("k{i:03}"),
            n: 1,
        })
        .collect();
    Checked::upsert_many(&db.pool, &seed).await.unwrap();
    let before = snapshot(&mut db.pool.acquire().await.unwrap(), "ps_checked", "name").await;

    // 500 distinct keys in random order: sent sorted, so the server's row is not the
    // caller's.
    let mut names: Vec<String> = (0..500).map(|i| format!("k{i:03}")).collect();
    for i in (1..names.len()).rev() {
        names.swap(i, usize::try_from(rng.below(i as u64 + 1)).unwrap());
    }
    // Two rows break the CHECK: the caller's first (input row 123) and a later one that
    // sorts before it, so it is staged first.
    let later = (124..names.len())
        .find(|&j| names[j] < names[123])
        .expect("a later key that sorts first");
    let batch = |bad: &[usize], nul: bool| -> Vec<Checked> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| Checked {
                name: if nul && bad.contains(&i) {
                    format!("{name}\0")
                } else {
                    name.clone()
                },
                n: if !nul && bad.contains(&i) { -1 } else { 2 },
            })
            .collect()
    };
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let err = Checked::upsert_many_via(&db.pool, &batch(&[123, later], false), path)
            .await
            .unwrap_err();
        match &err {
            Error::Row { index, source } => {
                assert_eq!(*index, 123, "{path:?}: {err}");
                assert_eq!(source.sqlstate(), Some("23514"));
            }
            _ => panic!("{path:?}: {err:?}"),
        }
        let err = Checked::upsert_many_via(&db.pool, &batch(&[321], true), path)
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("22021"), "{path:?}: {err:?}");
        assert!(
            matches!(err, Error::Row { index: 321, .. }),
            "{path:?}: {err:?}"
        );
        let after = snapshot(&mut db.pool.acquire().await.unwrap(), "ps_checked", "name").await;
        assert_eq!(after, before, "{path:?}: nothing written");
    }
    // The pool is still usable, and the good batch goes.
    let outcome = Checked::upsert_many(&db.pool, &batch(&[], false))
        .await
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (450, 50));
    db.finish().await;
}

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "ps_lock")]
struct Counter {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    n: i64,
}

const TASKS: usize = 4;
const ROUNDS: usize = 8;
const KEYS: usize = 2000;

/// Keys whose order under `en-US` (`a00000`, `B00001`, `a00002`, ..) is not their byte order
/// (every `B..` before every `a..`).
fn lock_keys() -> Vec<String> {
    (0..KEYS)
        .map(|i| format!("{}{i:05}", if i % 2 == 0 { 'a' } else { 'B' }))
        .collect()
}

/// Task `task`'s batch: even tasks send distinct keys (presorted), odd tasks repeat one key
/// (folded by the server). Every row adds 1.
fn lock_batch(task: usize, round: usize) -> Vec<Counter> {
    let mut keys = lock_keys();
    keys.rotate_left((task * 7 + round * 13) % KEYS);
    if task % 2 == 1 {
        keys.push(keys[0].clone());
    }
    keys.into_iter()
        .map(|name| Counter { name, n: 1 })
        .collect()
}

/// The fold of a batch written in the database collation's key order, as a plain
/// `ORDER BY name` does (and as this crate's fold did before it sorted by bytes).
async fn in_collation_order(pool: &PgPool, rows: &[Counter]) -> Option<String> {
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let adds: Vec<i64> = rows.iter().map(|r| r.n).collect();
    sqlx::query(
        "INSERT INTO ps_lock (name, n) SELECT name, sum(n) FROM UNNEST($1::text[], $2::int8[]) \
         AS u(name, n) GROUP BY name ORDER BY name \
         ON CONFLICT (name) DO UPDATE SET n = ps_lock.n + EXCLUDED.n",
    )
    .bind(names)
    .bind(adds)
    .execute(pool)
    .await
    .err()
    .map(|e| {
        e.as_database_error()
            .and_then(sqlx::error::DatabaseError::code)
            .unwrap_or_default()
            .into_owned()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn presorted_and_folded_batches_lock_in_one_order_under_an_icu_collation() {
    // A database whose default collation is not byte order.
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(upsert_testkit::connect_options())
        .await
        .unwrap();
    let name = format!("au_icu_{}", std::process::id());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
    )))
    .execute(&admin)
    .await
    .unwrap_or_else(|e| panic!("this test needs PostgreSQL 15+ built with ICU: {e}"));
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(TASKS).unwrap())
        .connect_with(upsert_testkit::connect_options().database(&name))
        .await
        .unwrap();
    let first: String = sqlx::query_scalar("SELECT min(k) FROM (VALUES ('a'), ('B')) AS v(k)")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(first, "a", "the database must not sort by bytes");
    sqlx::raw_sql("CREATE TABLE ps_lock (name text PRIMARY KEY, n int8 NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let seed: Vec<Counter> = lock_keys()
        .into_iter()
        .map(|name| Counter { name, n: 0 })
        .collect();
    Counter::upsert_many(&pool, &seed).await.unwrap();

    // Control: the folded batches sort by the database's collation.
    let control = concurrent_rounds(
        &pool,
        (TASKS, ROUNDS),
        lock_batch,
        |pool, task, rows| async move {
            if task % 2 == 0 {
                Counter::upsert_many_via(&pool, &rows, BulkPath::Unnest)
                    .await
                    .err()
                    .map(|e| e.sqlstate().unwrap_or_default().to_owned())
            } else {
                in_collation_order(&pool, &rows).await
            }
        },
    )
    .await;
    assert!(
        control.iter().any(|code| code == "40P01"),
        "batches in collation order never deadlocked with presorted ones, so this workload \
         cannot show the problem: {control:?}"
    );

    // Ours: presorted and folded batches, on both paths, all at once.
    sqlx::query("UPDATE ps_lock SET n = 0")
        .execute(&pool)
        .await
        .unwrap();
    let ours = concurrent_rounds(
        &pool,
        (TASKS, ROUNDS),
        lock_batch,
        |pool, task, rows| async move {
            let path = if task < 2 {
                BulkPath::Unnest
            } else {
                BulkPath::Copy
            };
            Counter::upsert_many_via(&pool, &rows, path)
                .await
                .err()
                .map(|e| format!("{:?} {e}", e.sqlstate()))
        },
    )
    .await;
    assert!(ours.is_empty(), "upsert_many failed: {ours:?}");
    // Every add landed once: each key got one per batch, two from the batches that repeat
    // its first key.
    let total: i64 = sqlx::query_scalar("SELECT sum(n)::int8 FROM ps_lock")
        .fetch_one(&pool)
        .await
        .unwrap();
    let rows_sent: usize = (0..TASKS)
        .flat_map(|task| (0..ROUNDS).map(move |round| lock_batch(task, round).len()))
        .sum();
    assert_eq!(total, i64::try_from(rows_sent).unwrap());

    pool.close().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
