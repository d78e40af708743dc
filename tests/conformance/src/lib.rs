//! The conformance suite, written once against [`Backend`] and run on every backend: a
//! batch is its rows applied one by one, in order, on random data with repeated and NULL
//! keys and every strategy both backends have. Each backend's test suite implements
//! [`Backend`] (a fresh database, the table's rows read back as text) and calls
//! [`random_batches_equal_one_by_one`], [`batch_equals_one_by_one`], the seed's race
//! ([`race_is_exact_where_the_naive_pattern_fails`]), errors
//! ([`a_rejected_row_is_typed_and_loses_nothing`]) and cancellation
//! ([`a_dropped_call_leaves_the_pool_in_step`]).
//!
//! ```no_run
//! # async fn run<B: upsert_conformance::Backend>(backend: &B)
//! # where
//! #   for<'c> &'c mut <B::Db as atomic_upsert::sqlx::Database>::Connection:
//! #       atomic_upsert::sqlx::Executor<'c, Database = B::Db> + atomic_upsert::sqlx::Acquire<'c, Database = B::Db>,
//! #   for<'c> B::Db: atomic_upsert::backend::Runs<'c, upsert_conformance::Mixed, &'c mut <B::Db as atomic_upsert::sqlx::Database>::Connection>
//! #       + atomic_upsert::backend::Batches<'c, upsert_conformance::Mixed, &'c mut <B::Db as atomic_upsert::sqlx::Database>::Connection>,
//! # {
//! upsert_conformance::random_batches_equal_one_by_one(backend, 0x5eed, 12).await;
//! # }
//! ```

use std::future::Future;
use std::ops::DerefMut;
use std::sync::Arc;

use atomic_upsert::backend::{Batches, Runs};
use atomic_upsert::sqlx::{Acquire, Database, Executor, Pool};
use atomic_upsert::{AtomicUpsert, BatchOutcome, Error, UpsertOutcome};

pub use upsert_testkit::Rng;

/// What the outcomes of single calls add up to.
#[must_use]
pub fn tally(outcomes: &[UpsertOutcome]) -> BatchOutcome {
    let mut tally = BatchOutcome::default();
    for outcome in outcomes {
        match outcome {
            UpsertOutcome::Inserted => tally.inserted += 1,
            UpsertOutcome::Updated => tally.updated += 1,
            _ => tally.skipped += 1,
        }
    }
    tally
}

/// A backend the suite runs on.
pub trait Backend: Sync {
    /// Its sqlx database.
    type Db: Database;
    /// A connection to a fresh database (or schema) of its own.
    type Conn: DerefMut<Target = <Self::Db as Database>::Connection> + Send;

    /// The DDL of [`Mixed`]'s table on this backend.
    const MIXED: &'static str;

    /// A statement returning [`Mixed`]'s rows, one text value per row, in a stable order.
    const MIXED_ROWS: &'static str;

    /// What keeps a [`Backend::pool`]'s database while the pool is in use (a file, a
    /// schema), dropped after it.
    type Keep: Send;

    /// The DDL of [`Stats`]' table on this backend.
    const STATS: &'static str;

    /// [`Backend::STATS`] with `CHECK (runs <= 100)`: a row the table rejects
    /// ([`a_rejected_row_is_typed_and_loses_nothing`]).
    const STATS_CHECKED: &'static str;

    /// A statement returning every [`Stats`] row as the text `stats_type:runs`, in key order.
    const STATS_ROWS: &'static str;

    /// The tasks (and connections) of the seed's race
    /// ([`race_is_exact_where_the_naive_pattern_fails`]).
    const WORKERS: u32 = 8;

    /// A connection to a fresh database in which `ddl` has run.
    fn fresh(&self, ddl: &str) -> impl Future<Output = Self::Conn> + Send;

    /// A pool of `connections` on a fresh database in which `ddl` has run, that several
    /// connections can write at once (SQLite: a file in WAL mode, not memory).
    fn pool(
        &self,
        ddl: &str,
        connections: u32,
    ) -> impl Future<Output = (Pool<Self::Db>, Self::Keep)> + Send;

    /// The seed's naive pattern on [`Stats`], on a connection of `pool`: `SELECT runs` of
    /// `key`, then `INSERT` (runs = 1) when there was none, else `UPDATE` runs + 1.
    fn naive_add(
        pool: &Pool<Self::Db>,
        key: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Every [`Stats`] row as `(stats_type, runs)`, in key order.
    fn stats(pool: &Pool<Self::Db>) -> impl Future<Output = Vec<(String, i64)>> + Send;

    /// The rows `sql` returns, one text value each.
    fn rows(
        conn: &mut <Self::Db as Database>::Connection,
        sql: &str,
    ) -> impl Future<Output = Vec<String>> + Send;
}

/// Every strategy both backends have, a nullable key and a timestamp: the suite's model.
#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "mixed")]
pub struct Mixed {
    /// The key; NULL in one row in eight (such a row never conflicts).
    #[conflict_key]
    pub k: Option<String>,
    /// Replaced.
    pub v: Option<String>,
    /// A counter.
    #[upsert(add)]
    pub n: i64,
    /// A high-water mark.
    #[upsert(greatest)]
    pub hi: Option<i64>,
    /// A low-water mark.
    #[upsert(least)]
    pub lo: Option<i64>,
    /// Kept from the first insert.
    #[upsert(insert_only)]
    pub first: Option<String>,
    /// A NULL never overwrites.
    #[upsert(coalesce)]
    pub c: Option<String>,
    /// Stamped by the server.
    #[upsert(updated_at)]
    pub updated_at: (),
}

/// The seed's counter: one row per statistic, `runs` added.
#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "stats")]
pub struct Stats {
    /// The statistic.
    #[conflict_key]
    pub stats_type: String,
    /// How many runs, added.
    #[upsert(add)]
    pub runs: i64,
}

impl Mixed {
    /// A random row over `keys` keys.
    pub fn random(rng: &mut Rng, keys: u64) -> Mixed {
        Mixed {
            k: (rng.below(8) != 0).then(|| format!("k{}", rng.below(keys))),
            v: rng.text(9),
            n: i64::from(rng.int(5)),
            hi: rng.maybe(50),
            lo: rng.maybe(50),
            first: rng.text(9),
            c: rng.text(9),
            updated_at: (),
        }
    }
}

/// Applies `seed`, then `batch` one row at a time, then each batch call on a fresh
/// database with the same seed: `upsert_many` (on the connection and in a transaction)
/// and `upsert_many_outcomes` must leave the same rows and answer what the single calls
/// answered. Returns the one-by-one counts.
///
/// # Panics
/// When a batch differs from one by one, or a call fails.
pub async fn batch_equals_one_by_one<B, T>(
    backend: &B,
    ddl: &str,
    rows_sql: &str,
    seed: &[T],
    batch: &[T],
) -> BatchOutcome
where
    B: Backend,
    T: AtomicUpsert,
    for<'c> &'c mut <B::Db as Database>::Connection:
        Executor<'c, Database = B::Db> + Acquire<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, T, &'c mut <B::Db as Database>::Connection>
        + Batches<'c, T, &'c mut <B::Db as Database>::Connection>,
{
    let seeded = async || {
        let mut conn = backend.fresh(ddl).await;
        for row in seed {
            row.upsert(&mut *conn).await.expect("seed");
        }
        conn
    };
    let mut expected = seeded().await;
    let mut one_by_one = Vec::with_capacity(batch.len());
    for row in batch {
        one_by_one.push(row.upsert(&mut *expected).await.expect("one by one"));
    }
    let want = B::rows(&mut expected, rows_sql).await;
    let counts = tally(&one_by_one);

    let mut conn = seeded().await;
    let got = T::upsert_many(&mut *conn, batch)
        .await
        .expect("upsert_many");
    assert_eq!(got, counts, "upsert_many: counts");
    assert_eq!(
        B::rows(&mut conn, rows_sql).await,
        want,
        "upsert_many: rows"
    );

    let mut conn = seeded().await;
    let mut tx = atomic_upsert::sqlx::Connection::begin(&mut *conn)
        .await
        .expect("begin");
    let got = T::upsert_many(&mut *tx, batch)
        .await
        .expect("upsert_many in a transaction");
    tx.commit().await.expect("commit");
    assert_eq!(got, counts, "upsert_many in a transaction: counts");
    assert_eq!(
        B::rows(&mut conn, rows_sql).await,
        want,
        "upsert_many in a transaction: rows"
    );

    let mut conn = seeded().await;
    let got = T::upsert_many_outcomes(&mut *conn, batch)
        .await
        .expect("upsert_many_outcomes");
    assert_eq!(got, one_by_one, "upsert_many_outcomes");
    assert_eq!(
        B::rows(&mut conn, rows_sql).await,
        want,
        "upsert_many_outcomes: rows"
    );
    counts
}

/// [`batch_equals_one_by_one`] on `rounds` random batches of [`Mixed`] (few or many keys,
/// repeats, NULL keys), from `seed`.
///
/// # Panics
/// When a batch differs from one by one.
pub async fn random_batches_equal_one_by_one<B>(backend: &B, seed: u64, rounds: usize)
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection:
        Executor<'c, Database = B::Db> + Acquire<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, Mixed, &'c mut <B::Db as Database>::Connection>
        + Batches<'c, Mixed, &'c mut <B::Db as Database>::Connection>,
{
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let keys = 1 + rng.below(60);
        let stored: Vec<Mixed> = (0..rng.below(20))
            .map(|_| Mixed::random(&mut rng, keys))
            .collect();
        let batch: Vec<Mixed> = (0..rng.below(300))
            .map(|_| Mixed::random(&mut rng, keys))
            .collect();
        batch_equals_one_by_one(backend, B::MIXED, B::MIXED_ROWS, &stored, &batch).await;
    }
}

/// The keys each task adds 1 to, in order.
pub const KEYS: usize = 40;

/// The seed's race: [`Backend::WORKERS`] tasks on a pool of as many connections each add 1 to
/// [`KEYS`] fresh keys, meeting at a barrier before each key so that all of them look for
/// it at once. The naive pattern ([`Backend::naive_add`]) must fail on this workload (or
/// the test could not see the race), each failure losing its increment; the derive's
/// `upsert` must have no error, one insert per key and exact sums.
///
/// # Panics
/// When the naive pattern does not fail, or the derive does.
pub async fn race_is_exact_where_the_naive_pattern_fails<B>(backend: &B)
where
    B: Backend,
    B::Db: for<'c> Runs<'c, Stats, &'c Pool<B::Db>>,
    for<'c> &'c Pool<B::Db>: Executor<'c, Database = B::Db>,
{
    let ((_, naive_failed), rows) = race(backend, |pool, key| async move {
        B::naive_add(&pool, &key).await.map(|()| None)
    })
    .await;
    let lost: i64 = rows
        .iter()
        .map(|(_, runs)| i64::from(B::WORKERS) - runs)
        .sum();
    assert!(
        naive_failed > 0,
        "the naive pattern must fail on this workload, or the test cannot see the race"
    );
    assert_eq!(
        lost,
        i64::try_from(naive_failed).unwrap_or(i64::MAX),
        "each naive failure lost its increment"
    );

    let ((inserted, failed), rows) = race(backend, |pool, key| async move {
        let row = Stats {
            stats_type: key,
            runs: 1,
        };
        row.upsert(&pool).await.map(Some).map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(
        (inserted, failed),
        (KEYS, 0),
        "the derive: one insert per key, no error"
    );
    assert_eq!(rows.len(), KEYS);
    assert!(
        rows.iter().all(|(_, runs)| *runs == i64::from(B::WORKERS)),
        "the derive: exact sums, {rows:?}"
    );
}

/// The seed's race on a fresh [`Backend::pool`] of [`Backend::WORKERS`] connections: every task
/// runs `job` for each of [`KEYS`] keys, meeting the others at a barrier before each key.
/// Returns the inserts and the failures counted, and the [`Stats`] rows left. A backend's
/// own suite runs it with its own jobs (SQLite: the upsert inside `BEGIN IMMEDIATE`).
///
/// # Panics
/// When a task panics.
pub async fn race<B, F, Fut>(backend: &B, job: F) -> ((usize, usize), Vec<(String, i64)>)
where
    B: Backend,
    F: Fn(Pool<B::Db>, String) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<Option<UpsertOutcome>, String>> + Send,
{
    let (pool, keep) = backend.pool(B::STATS, B::WORKERS).await;
    let workers = usize::try_from(B::WORKERS).unwrap_or(1);
    let barrier = Arc::new(tokio::sync::Barrier::new(workers));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (pool, barrier, job) = (pool.clone(), Arc::clone(&barrier), job.clone());
        handles.push(tokio::spawn(async move {
            let (mut inserted, mut failed) = (0, 0);
            for key in 0..KEYS {
                barrier.wait().await;
                match job(pool.clone(), format!("key-{key:02}")).await {
                    Ok(Some(UpsertOutcome::Inserted)) => inserted += 1,
                    Ok(_) => {}
                    Err(_) => failed += 1,
                }
            }
            (inserted, failed)
        }));
    }
    let (mut inserted, mut failed) = (0, 0);
    for handle in handles {
        let (i, f) = handle.await.expect("a task panicked");
        inserted += i;
        failed += f;
    }
    let rows = B::stats(&pool).await;
    pool.close().await;
    drop(keep);
    ((inserted, failed), rows)
}

/// Whether `error` is the table's CHECK constraint rejecting a row (a call), or a batch's
/// row `index` rejected by it (a batch names its row).
fn is_check(error: &Error, index: Option<usize>) -> bool {
    match (error, index) {
        (Error::CheckViolation { .. }, None) => true,
        (Error::Row { index: at, source }, Some(index)) => {
            *at == index && matches!(**source, Error::CheckViolation { .. })
        }
        _ => false,
    }
}

/// The rows of [`a_rejected_row_is_typed_and_loses_nothing`]'s batch: keys `b0`.. `b19`
/// (new) and `s0`.. `s9` (stored), one of which (`rejected`) adds more than the CHECK
/// constraint allows.
fn checked_batch(rejected: usize) -> Vec<Stats> {
    (0..30)
        .map(|i| Stats {
            stats_type: if i % 3 == 0 {
                format!("s{}", i / 3)
            } else {
                format!("b{i}")
            },
            runs: if i == rejected { 500 } else { 1 },
        })
        .collect()
}

/// Bad input gets a typed error and loses nothing, on every path: on a table whose CHECK
/// constraint rejects one row, `upsert` answers [`Error::CheckViolation`], and
/// `upsert_many` and `upsert_many_outcomes` answer [`Error::Row`] naming the row, through
/// the pool, on a held connection and inside the caller's transaction. Each time the
/// table stays as it was, and the pool, the connection and the transaction stay usable
/// (the transaction goes on and commits its own write).
///
/// # Panics
/// When an error is untyped or names the wrong row, a row changed, or a path is unusable
/// after the error.
pub async fn a_rejected_row_is_typed_and_loses_nothing<B>(backend: &B)
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection:
        Executor<'c, Database = B::Db> + Acquire<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, Stats, &'c mut <B::Db as Database>::Connection>
        + Batches<'c, Stats, &'c mut <B::Db as Database>::Connection>
        + Runs<'c, Stats, &'c Pool<B::Db>>
        + Batches<'c, Stats, &'c Pool<B::Db>>,
    for<'c> &'c Pool<B::Db>: Executor<'c, Database = B::Db> + Acquire<'c, Database = B::Db>,
{
    let seed: Vec<Stats> = (0..10)
        .map(|i| Stats {
            stats_type: format!("s{i}"),
            runs: 1,
        })
        .collect();
    let too_many = Stats {
        stats_type: "s4".into(),
        runs: 500,
    };
    let (rejected, batch) = (13, checked_batch(13));

    // Through the pool.
    let (pool, keep) = backend.pool(B::STATS_CHECKED, 2).await;
    Stats::upsert_many(&pool, &seed).await.expect("seed");
    let before = B::stats(&pool).await;
    let error = too_many
        .upsert(&pool)
        .await
        .expect_err("the CHECK rejects it");
    assert!(is_check(&error, None), "pool, upsert: {error:?}");
    let error = Stats::upsert_many(&pool, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "pool, upsert_many: {error:?}"
    );
    let error = Stats::upsert_many_outcomes(&pool, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "pool, upsert_many_outcomes: {error:?}"
    );
    assert_eq!(B::stats(&pool).await, before, "pool: a row changed");
    let ok = Stats {
        stats_type: "after".into(),
        runs: 1,
    };
    assert_eq!(
        ok.upsert(&pool).await.expect("the pool is usable"),
        UpsertOutcome::Inserted
    );
    pool.close().await;
    drop(keep);

    // On a held connection.
    let mut conn = backend.fresh(B::STATS_CHECKED).await;
    Stats::upsert_many(&mut *conn, &seed).await.expect("seed");
    let before = B::rows(&mut conn, B::STATS_ROWS).await;
    let error = too_many.upsert(&mut *conn).await.expect_err("rejected");
    assert!(is_check(&error, None), "held, upsert: {error:?}");
    let error = Stats::upsert_many(&mut *conn, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "held, upsert_many: {error:?}"
    );
    let error = Stats::upsert_many_outcomes(&mut *conn, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "held, upsert_many_outcomes: {error:?}"
    );
    assert_eq!(
        B::rows(&mut conn, B::STATS_ROWS).await,
        before,
        "held: a row changed"
    );

    // Inside the caller's transaction: the batch's failure leaves the transaction usable.
    let mut tx = atomic_upsert::sqlx::Connection::begin(&mut *conn)
        .await
        .expect("begin");
    let error = Stats::upsert_many(&mut *tx, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "transaction, upsert_many: {error:?}"
    );
    let error = Stats::upsert_many_outcomes(&mut *tx, &batch)
        .await
        .expect_err("rejected");
    assert!(
        is_check(&error, Some(rejected)),
        "transaction, upsert_many_outcomes: {error:?}"
    );
    assert_eq!(
        ok.upsert(&mut *tx).await.expect("the transaction goes on"),
        UpsertOutcome::Inserted
    );
    tx.commit().await.expect("commit");
    let mut after = before.clone();
    after.insert(0, "after:1".to_owned());
    assert_eq!(
        B::rows(&mut conn, B::STATS_ROWS).await,
        after,
        "transaction: only the caller's own write is kept"
    );
}

/// One of the calls [`a_dropped_call_leaves_the_pool_in_step`] drops.
#[derive(Debug, Clone, Copy)]
enum Dropped {
    Upsert,
    InsertOrIgnore,
    UpsertMany,
    UpsertManyOutcomes,
}

/// Runs `call` through `pool`: a single row `{prefix}0`, or a batch of 500 keys
/// `{prefix}0`.. with a repeated key.
async fn run_dropped<B>(call: Dropped, pool: &Pool<B::Db>, prefix: &str)
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, Stats, &'c Pool<B::Db>> + Batches<'c, Stats, &'c Pool<B::Db>>,
{
    let row = Stats {
        stats_type: format!("{prefix}0"),
        runs: 1,
    };
    let batch: Vec<Stats> = (0..500)
        .map(|i| Stats {
            stats_type: format!("{prefix}{}", i % 499),
            runs: 1,
        })
        .collect();
    let _ = match call {
        Dropped::Upsert => row.upsert(pool).await.map(drop),
        Dropped::InsertOrIgnore => row.insert_or_ignore(pool).await.map(drop),
        Dropped::UpsertMany => Stats::upsert_many(pool, &batch).await.map(drop),
        Dropped::UpsertManyOutcomes => Stats::upsert_many_outcomes(pool, &batch).await.map(drop),
    };
}

/// A call dropped anywhere leaves nothing behind: every call through a pool of one
/// connection, dropped after a random delay across the call's whole length (12 rounds),
/// wrote all of its rows or none, and the next calls on the pool (the same connection, or
/// the one that replaced it) answer exactly: a canary key is inserted, then updated, and
/// holds the sum of both.
///
/// # Panics
/// When a dropped call left part of a batch, or the canary is not exact.
pub async fn a_dropped_call_leaves_the_pool_in_step<B>(backend: &B)
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, Stats, &'c Pool<B::Db>> + Batches<'c, Stats, &'c Pool<B::Db>>,
{
    const CALLS: [Dropped; 4] = [
        Dropped::Upsert,
        Dropped::InsertOrIgnore,
        Dropped::UpsertMany,
        Dropped::UpsertManyOutcomes,
    ];
    let (pool, keep) = backend.pool(B::STATS, 1).await;
    let mut whole = Vec::new();
    for (c, call) in CALLS.iter().enumerate() {
        let started = std::time::Instant::now();
        run_dropped::<B>(*call, &pool, &format!("whole{c}-")).await;
        whole.push(started.elapsed());
    }
    let mut rng = Rng(0x0d40_99ed);
    for round in 0..12 {
        for (c, (call, took)) in CALLS.iter().zip(&whole).enumerate() {
            let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(50);
            let delay = std::time::Duration::from_micros(rng.below(micros * 2));
            let prefix = format!("r{round}c{c}-");
            let _ = tokio::time::timeout(delay, run_dropped::<B>(*call, &pool, &prefix)).await;
            let after = format!("round {round}, {call:?} dropped after {delay:?}");
            let written = B::stats(&pool)
                .await
                .into_iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .count();
            let all = if matches!(call, Dropped::Upsert | Dropped::InsertOrIgnore) {
                1
            } else {
                499
            };
            assert!(
                written == 0 || written == all,
                "{after}: {written} of {all} rows written"
            );
            let canary = Stats {
                stats_type: format!("canary-{round}-{c}"),
                runs: 1,
            };
            assert_eq!(
                canary.upsert(&pool).await.expect(&after),
                UpsertOutcome::Inserted,
                "{after}"
            );
            assert_eq!(
                canary.upsert(&pool).await.expect(&after),
                UpsertOutcome::Updated,
                "{after}"
            );
            let runs = B::stats(&pool)
                .await
                .into_iter()
                .find(|(key, _)| *key == canary.stats_type)
                .map(|(_, runs)| runs);
            assert_eq!(runs, Some(2), "{after}");
        }
    }
    pool.close().await;
    drop(keep);
}

/// The same failure is the same [`Error`] on every backend: a missing table is
/// `Error::Database { code: "42P01" }` and a missing column `Error::Database { code:
/// "42703" }` (PostgreSQL's SQLSTATEs, which SQLite and MySQL answer with too), on
/// `upsert` and `upsert_many`; `verify` names the missing table and column in one
/// report format (`(table "stats")`) everywhere.
///
/// # Panics
/// When a backend answers a failure with another variant or code, or another report.
pub async fn failures_are_typed_alike<B>(backend: &B)
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection:
        Executor<'c, Database = B::Db> + Acquire<'c, Database = B::Db>,
    for<'c> B::Db: Runs<'c, Stats, &'c mut <B::Db as Database>::Connection>
        + Batches<'c, Stats, &'c mut <B::Db as Database>::Connection>,
{
    let row = Stats {
        stats_type: "ytd".into(),
        runs: 1,
    };
    // (what the database lacks, its DDL, the code, the missing name in `verify`'s report)
    let cases = [
        (
            "the table",
            "CREATE TABLE other (id int PRIMARY KEY)",
            "42P01",
            "(table \"stats\")",
        ),
        (
            "a column",
            "CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY)",
            "42703",
            "\"runs\"",
        ),
    ];
    for (lacks, ddl, code, named) in cases {
        let mut conn = backend.fresh(ddl).await;
        let single = row.upsert(&mut *conn).await.expect_err(lacks);
        let batch = Stats::upsert_many(&mut *conn, std::slice::from_ref(&row))
            .await
            .expect_err(lacks);
        for error in [&single, &batch] {
            assert!(
                matches!(error, Error::Database { code: found, .. } if found == code),
                "missing {lacks}: expected Error::Database {{ code: {code:?} }}, got {error:?}"
            );
            assert_eq!(error.sqlstate(), Some(code), "{error}");
        }
        let Err(Error::SchemaMismatch(report)) = Stats::verify(&mut *conn).await else {
            panic!("verify with {lacks} missing: expected a schema mismatch");
        };
        let text = report.to_string();
        assert!(text.contains("(table \"stats\")"), "{text}");
        assert!(text.contains(named), "{text}");
    }
}
