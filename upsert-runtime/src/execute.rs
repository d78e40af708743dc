//! Single-row execution: bind the fields, send the derive's statement, read the outcome.

use sqlx::Row as _;
use sqlx::postgres::{PgExecutor, PgRow};

use crate::error::{Error, Target};
use crate::private::FromStored;
use crate::{AtomicUpsert, UpsertOutcome};

/// The target of `T`'s statements, for error messages.
pub(crate) fn target<T: AtomicUpsert>() -> Target {
    Target {
        schema: T::SCHEMA,
        table: T::TABLE,
        columns: T::CONFLICT_COLUMNS,
    }
}

/// Binds `row` to `sql`, sends it, and returns the row it returned, if any.
async fn send<'c, T, E>(row: &T, sql: &'static str, executor: E) -> Result<Option<PgRow>, Error>
where
    T: AtomicUpsert,
    E: PgExecutor<'c>,
{
    row.__bind(sqlx::query(sql))
        .fetch_optional(executor)
        .await
        .map_err(|error| Error::classify(error, &target::<T>()))
}

/// Runs one of `T`'s single-row statements (`UPSERT_SQL` or `INSERT_OR_IGNORE_SQL`).
///
/// Both end in `RETURNING (xmax = 0)`: a returned row was written, and its `xmax` is 0
/// exactly when the row version is a fresh insert (an update stamps the updating
/// transaction's id there). No row back means `ON CONFLICT` wrote nothing: the outcome
/// is then `unwritten`.
pub(crate) async fn single<'c, T, E>(
    row: &T,
    sql: &'static str,
    unwritten: UpsertOutcome,
    executor: E,
) -> Result<UpsertOutcome, Error>
where
    T: AtomicUpsert,
    E: PgExecutor<'c>,
{
    let Some(answer) = send(row, sql, executor).await? else {
        // Nothing written: DO NOTHING, or a guard held the existing row back.
        return Ok(unwritten);
    };
    // NULL: not written, and the stored row already held every value (a statement with
    // `skip_unchanged` beside another guard says so in a row of its own).
    let inserted: Option<bool> = answer.try_get(0).map_err(Error::Sqlx)?;
    Ok(match inserted {
        Some(true) => UpsertOutcome::Inserted,
        Some(false) => UpsertOutcome::Updated,
        None => UpsertOutcome::Unchanged,
    })
}

/// Runs `UPSERT_RETURNING_SQL` and reads the stored row back; `None` when nothing was
/// written.
pub(crate) async fn returning<'c, T, E>(row: &T, executor: E) -> Result<Option<T>, Error>
where
    T: AtomicUpsert + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    send(row, T::UPSERT_RETURNING_SQL, executor)
        .await?
        .as_ref()
        .map(T::__from_stored)
        .transpose()
        .map_err(Error::Sqlx)
}
