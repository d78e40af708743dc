//! Each call of the trait, for an attempt: which statement it sends, what "no row back"
//! means, and the operation its span is named for. The trait's methods run attempt 1;
//! [`Retry`](crate::Retry) runs attempt after attempt through the same functions, so the
//! pairing lives here once.

use std::future::Future;

use sqlx::postgres::{PgExecutor, Postgres};

use crate::error::Error;
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::generated::FromStored;
use crate::postgres::{bulk, execute};
use crate::telemetry::Op;
use crate::{AtomicUpsert, BulkPath, table_key};
use upsert_core::Unwritten;

/// [`AtomicUpsert::upsert`], attempt `attempt`.
pub(crate) fn upsert<'q, 'c, T, E>(
    row: &'q T,
    executor: E,
    attempt: u32,
) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send + use<'q, 'c, T, E>
where
    T: AtomicUpsert,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    execute::single(
        row.bind_row(sqlx::query(T::UPSERT_SQL)),
        T::PLAN.returning_old.map(|old| old.upsert),
        T::PLAN.unwritten,
        table_key::<T>(),
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
    T: AtomicUpsert,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    execute::single(
        row.bind_row(sqlx::query(T::INSERT_OR_IGNORE_SQL)),
        // `DO NOTHING` returns `true` for an inserted row on every server.
        None,
        Unwritten::Skipped,
        table_key::<T>(),
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
    T: AtomicUpsert + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    execute::returning(
        row.bind_row(sqlx::query(T::UPSERT_RETURNING_SQL)),
        table_key::<T>(),
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
    T: AtomicUpsert,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: crate::postgres::cancel::Acquired,
{
    bulk::upsert_many(
        executor,
        bulk::Batch::of(rows, path, T::UPSERT_MANY_SQL, bulk::Want::Counts),
        table_key::<T>(),
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
    T: AtomicUpsert,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: crate::postgres::cancel::Acquired,
{
    bulk::upsert_many_outcomes(
        executor,
        bulk::Batch::of(rows, path, T::PLAN.outcomes_sql, bulk::Want::Outcomes),
        table_key::<T>(),
    )
}

/// [`upsert_many_outcomes`] on the `UNNEST` path for a caller that knows whether the table
/// watches every row (the writer, which asks once a second).
pub(crate) fn writer_outcomes<'q, 'c, T: AtomicUpsert>(
    conn: &'c mut sqlx::PgConnection,
    rows: &'q [T],
    watches: bool,
) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send + use<'q, 'c, T> {
    bulk::upsert_many_outcomes(
        conn,
        bulk::Batch::of(
            rows,
            BulkPath::Unnest,
            T::PLAN.outcomes_sql,
            bulk::Want::Outcomes,
        )
        .knowing_watches(watches),
        table_key::<T>(),
    )
}
