//! The conformance suite, written once against [`Backend`] and run on every backend: a
//! batch is its rows applied one by one, in order, on random data with repeated and NULL
//! keys and every strategy both backends have. Each backend's test suite implements
//! [`Backend`] (a fresh database, the table's rows read back as text) and calls
//! [`random_batches_equal_one_by_one`] and [`batch_equals_one_by_one`].
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

use atomic_upsert::backend::{Batches, Runs};
use atomic_upsert::sqlx::{Acquire, Database, Executor};
use atomic_upsert::{AtomicUpsert, BatchOutcome, UpsertOutcome};

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

    /// A connection to a fresh database in which `ddl` has run.
    fn fresh(&self, ddl: &str) -> impl Future<Output = Self::Conn> + Send;

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
