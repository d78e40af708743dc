//! Single-row execution: bind the fields, send the derive's statement, read the outcome.

use sqlx::Acquire;
use sqlx::Row as _;
use sqlx::postgres::{PgExecutor, PgRow, Postgres};

use crate::error::{Error, TableKey};
use crate::outcome::{Obtained, UpsertOutcome};
use crate::private::{FromStored, Generated, Unwritten};

/// Binds `row` to `sql`, sends it, and returns the row it returned, if any; errors are
/// classified against `key`.
async fn send<'c, T, E>(
    row: &T,
    sql: &'static str,
    key: TableKey,
    executor: E,
) -> Result<Option<PgRow>, Error>
where
    T: Generated,
    E: PgExecutor<'c>,
{
    row.bind_row(sqlx::query(sql))
        .fetch_optional(executor)
        .await
        .map_err(|error| Error::classify(error, &key))
}

/// Runs one of `T`'s single-row statements (`UPSERT_SQL` or `INSERT_OR_IGNORE_SQL`).
///
/// Both end in `RETURNING (xmax = 0)`: a returned row was written, and its `xmax` is 0
/// exactly when the row version is a fresh insert (an update stamps the updating
/// transaction's id there). No row back means `ON CONFLICT` wrote nothing: `unwritten`
/// says what that means.
pub(crate) async fn single<'c, T, E>(
    row: &T,
    sql: &'static str,
    unwritten: Unwritten,
    key: TableKey,
    executor: E,
) -> Result<UpsertOutcome, Error>
where
    T: Generated,
    E: PgExecutor<'c>,
{
    let Some(answer) = send(row, sql, key, executor).await? else {
        // Nothing written: DO NOTHING, or a guard held the existing row back.
        return Ok(match unwritten {
            Unwritten::Unchanged => UpsertOutcome::Unchanged,
            Unwritten::Skipped | Unwritten::Told => UpsertOutcome::Skipped,
        });
    };
    // NULL: not written, and the stored row already held every value (`Unwritten::Told`:
    // the statement says so in a row of its own).
    let inserted: Option<bool> = answer.try_get(0).map_err(Error::Sqlx)?;
    Ok(match inserted {
        Some(true) => UpsertOutcome::Inserted,
        Some(false) => UpsertOutcome::Updated,
        None => UpsertOutcome::Unchanged,
    })
}

/// Get-or-create: `INSERT .. ON CONFLICT DO NOTHING RETURNING`, and when a row already
/// had the key, `SELECT` it; a row deleted between the two is tried again, at most
/// `GET_ATTEMPTS` times.
pub(crate) async fn insert_or_get<'c, T, A>(
    row: &T,
    insert_sql: &'static str,
    select_sql: &'static str,
    key: TableKey,
    executor: A,
) -> Result<(T, Obtained), Error>
where
    T: Generated + for<'r> FromStored<'r>,
    A: Acquire<'c, Database = Postgres>,
{
    let classify = |error| Error::classify(error, &key);
    let mut conn = executor.acquire().await.map_err(classify)?;
    for _ in 0..GET_ATTEMPTS {
        if let Some(stored) = row
            .bind_row(sqlx::query(insert_sql))
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?
        {
            let inserted =
                T::from_stored(&stored).map_err(|source| Error::Unreadable { source })?;
            return Ok((inserted, Obtained::Inserted));
        }
        if let Some(stored) = row
            .bind_key(sqlx::query(select_sql))
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?
        {
            return Ok((
                T::from_stored(&stored).map_err(Error::Sqlx)?,
                Obtained::Existing,
            ));
        }
    }
    Err(Error::Contended {
        attempts: GET_ATTEMPTS,
    })
}

/// How many insert-then-select rounds `insert_or_get` makes before it reports contention.
const GET_ATTEMPTS: u32 = 16;

/// Runs `sql` (`UPSERT_RETURNING_SQL`) and reads the stored row back; `None` when nothing
/// was written.
pub(crate) async fn returning<'c, T, E>(
    row: &T,
    sql: &'static str,
    key: TableKey,
    executor: E,
) -> Result<Option<T>, Error>
where
    T: Generated + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    send(row, sql, key, executor)
        .await?
        .as_ref()
        .map(T::from_stored)
        .transpose()
        // The statement has run: the write stands, only reading it back failed.
        .map_err(|source| Error::Unreadable { source })
}
