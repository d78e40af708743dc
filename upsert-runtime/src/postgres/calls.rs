//! Each call of the trait, for an attempt: which statement it sends, what "no row back"
//! means, and the operation its span is named for. The trait's methods run attempt 1;
//! [`Retry`](crate::Retry) runs attempt after attempt through the same functions, so the
//! pairing lives here once.

use std::future::Future;

use sqlx::postgres::{PgExecutor, Postgres};

use crate::dispatch::{Batches, BulkPath, Returns, Runs, Sql, Statements};
use crate::error::Error;
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::cancel::Acquired;
use crate::postgres::generated::{FromStored, Generated};
use crate::postgres::{bulk, execute, verify};
use crate::telemetry::Op;
use upsert_core::Unwritten;

/// [`AtomicUpsert::upsert`], attempt `attempt`.
pub(crate) fn upsert<'q, 'c, T, E>(
    row: &'q T,
    executor: E,
    attempt: u32,
) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send + use<'q, 'c, T, E>
where
    T: Generated,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    execute::single(
        row.bind_row(sqlx::query(T::PLAN.sql.upsert_sql)),
        T::PLAN.returning_old.map(|old| old.upsert),
        T::PLAN.unwritten,
        T::KEY,
        (Op::Upsert, attempt),
        executor,
    )
}

/// [`AtomicUpsert::insert_or_ignore`], attempt `attempt`: no row back is always `Skipped`.
pub(crate) fn insert_or_ignore<'q, 'c, T, E>(
    row: &'q T,
    executor: E,
    attempt: u32,
) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send + use<'q, 'c, T, E>
where
    T: Generated,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    execute::single(
        row.bind_row(sqlx::query(T::PLAN.sql.insert_or_ignore_sql)),
        // `DO NOTHING` returns `true` for an inserted row on every server.
        None,
        Unwritten::Skipped,
        T::KEY,
        (Op::InsertOrIgnore, attempt),
        executor,
    )
}

/// [`AtomicUpsert::upsert_returning`], attempt `attempt`.
pub(crate) fn upsert_returning<'q, 'c, T, E>(
    row: &'q T,
    executor: E,
    attempt: u32,
) -> impl Future<Output = Result<Option<T>, Error>> + Send + use<'q, 'c, T, E>
where
    T: Generated + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    execute::returning(
        row.bind_row(sqlx::query(T::PLAN.sql.upsert_returning_sql)),
        T::KEY,
        attempt,
        executor,
        |stored| T::from_stored(stored),
    )
}

/// [`AtomicUpsert::upsert_many_via`], attempt `attempt`.
pub(crate) fn upsert_many<'q, 'c, T, A>(
    executor: A,
    rows: &'q [T],
    path: BulkPath,
    attempt: u32,
) -> impl Future<Output = Result<BatchOutcome, Error>> + Send + use<'q, 'c, T, A>
where
    T: Generated,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    bulk::upsert_many(
        executor,
        bulk::Batch::of(rows, path, T::PLAN.sql.upsert_many_sql, bulk::Want::Counts),
        T::KEY,
        attempt,
    )
}

/// [`AtomicUpsert::upsert_many_outcomes`] on `path`.
pub(crate) fn upsert_many_outcomes<'q, 'c, T, A>(
    executor: A,
    rows: &'q [T],
    path: BulkPath,
) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send + use<'q, 'c, T, A>
where
    T: Generated,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    bulk::upsert_many_outcomes(
        executor,
        bulk::Batch::of(rows, path, T::PLAN.sql.outcomes_sql, bulk::Want::Outcomes),
        T::KEY,
    )
}

/// [`upsert_many_outcomes`] on the `UNNEST` path for a caller that knows whether the table
/// watches every row (the writer, which asks once a second).
pub(crate) fn writer_outcomes<'q, 'c, T: Generated>(
    conn: &'c mut sqlx::PgConnection,
    rows: &'q [T],
    watches: bool,
) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send + use<'q, 'c, T> {
    bulk::upsert_many_outcomes(
        conn,
        bulk::Batch::of(
            rows,
            BulkPath::Unnest,
            T::PLAN.sql.outcomes_sql,
            bulk::Want::Outcomes,
        )
        .knowing_watches(watches),
        T::KEY,
    )
}

impl<'c, T, E> Runs<'c, T, E> for Postgres
where
    T: Generated,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        upsert(row, executor, 1)
    }

    fn insert_or_ignore(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        insert_or_ignore(row, executor, 1)
    }
}

impl<'c, T, E> Returns<'c, T, E> for Postgres
where
    T: Generated + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        upsert_returning(row, executor, 1)
    }
}

impl<'c, T, A> Batches<'c, T, A> for Postgres
where
    T: Generated,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    fn upsert_many(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send {
        upsert_many(executor, rows, lent_path::<A::Connection>(path), 1)
    }

    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send {
        upsert_many_outcomes(executor, rows, lent_path::<A::Connection>(path))
    }

    fn verify(executor: A) -> impl Future<Output = Result<(), Error>> + Send {
        verify::verify(executor, verify::Subject::of_struct::<T>())
    }
}

impl<T: Generated> Statements<T> for Postgres {
    fn statements() -> Sql {
        Sql {
            upsert: T::PLAN.sql.upsert_sql,
            update_first: None,
            insert_or_ignore: T::PLAN.sql.insert_or_ignore_sql,
            upsert_returning: T::PLAN.sql.upsert_returning_sql,
            upsert_many: T::PLAN.sql.upsert_many_sql,
        }
    }
}

/// On a connection the caller lends, `Auto` takes the `UNNEST` path: there the staging
/// table is loaded by `INSERT` statements, not by `COPY` (see `cancel`), which gains
/// nothing over one `UNNEST` statement. On a pool, `Auto` chooses by size.
fn lent_path<C: Acquired>(path: BulkPath) -> BulkPath {
    match path {
        BulkPath::Auto if !C::OWNED => BulkPath::Unnest,
        path => path,
    }
}
