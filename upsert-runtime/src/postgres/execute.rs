//! Single-row execution: send the derive's statement (already bound to the row), read the
//! outcome. [`single`] is generic over the executor only, not over the struct: the trait's
//! methods bind the row and hand over the query, so this code is compiled once per executor
//! type for a whole program, however many structs and call sites it has.

use sqlx::Acquire;
use sqlx::Row as _;
use sqlx::postgres::{PgExecutor, PgRow, Postgres};

use crate::error::{Error, TableKey};
use crate::outcome::{Obtained, UpsertOutcome};
use crate::postgres::generated::{Generated, PgQuery};
use crate::telemetry::{CallSpan, Op, traced};
use upsert_core::Unwritten;

/// Runs one of the single-row statements (`UPSERT_SQL` or `INSERT_OR_IGNORE_SQL`), bound in
/// `query`, as `op` (attempt `attempt`) on `key`'s table.
///
/// Both end in `RETURNING (xmax = 0)`: a returned row was written, and its `xmax` is 0
/// exactly when the row version is a fresh insert (an update stamps the updating
/// transaction's id there). No row back means `ON CONFLICT` wrote nothing: `unwritten`
/// says what that means.
///
/// `returning_old` is a partitioned table's statement for PostgreSQL 18 and later
/// (`Plan::returning_old`): the call then takes a connection first and sends that statement
/// instead when the connection's server has `RETURNING old`.
pub(crate) async fn single<'c, E>(
    query: PgQuery<'_>,
    returning_old: Option<&'static str>,
    unwritten: Unwritten,
    key: TableKey,
    (op, attempt): (Op, u32),
    executor: E,
) -> Result<UpsertOutcome, Error>
where
    E: PgExecutor<'c> + Acquire<'c, Database = Postgres>,
{
    let call = CallSpan::start(op, &key, 1, attempt);
    traced(
        call,
        async move {
            let classify = |error| Error::classify(error, &key);
            let answer = match returning_old {
                None => query.fetch_optional(executor).await.map_err(classify)?,
                Some(old_sql) => {
                    let mut conn = executor.acquire().await.map_err(classify)?;
                    let query = if returns_old(&conn) {
                        rebind(query, old_sql).map_err(classify)?
                    } else {
                        query
                    };
                    query.fetch_optional(&mut *conn).await.map_err(classify)?
                }
            };
            outcome(answer, unwritten)
        },
        |call, outcome| call.outcome(*outcome),
    )
    .await
}

/// Whether `conn`'s server answers `RETURNING old` (PostgreSQL 18 and later), from the
/// version it announced when the connection started: no query, once per connection.
pub(crate) fn returns_old(conn: &sqlx::PgConnection) -> bool {
    conn.server_version_num()
        .is_some_and(|version| version >= RETURNING_OLD_VERSION)
}

/// The first `server_version_num` with `RETURNING old` (PostgreSQL 18).
const RETURNING_OLD_VERSION: u32 = 180_000;

/// `query`'s bound arguments under the statement `sql` (which binds the same parameters).
/// A bind that failed to encode fails here as it would have when sent.
pub(crate) fn rebind<'q>(
    mut query: PgQuery<'q>,
    sql: &'static str,
) -> Result<PgQuery<'q>, sqlx::Error> {
    use sqlx::Execute as _;
    let arguments = query
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    Ok(sqlx::query_with(sql, arguments))
}

/// What a single-row statement's answer means.
fn outcome(answer: Option<PgRow>, unwritten: Unwritten) -> Result<UpsertOutcome, Error> {
    let Some(answer) = answer else {
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
/// `GET_ATTEMPTS` times. `read` turns the returned row into the answer: the struct itself
/// (`insert_or_get`) or a read model (`insert_or_get_as`).
pub(crate) async fn insert_or_get<'c, T, R, A>(
    row: &T,
    insert_sql: &'static str,
    select_sql: &'static str,
    key: TableKey,
    executor: A,
    read: fn(&PgRow) -> Result<R, sqlx::Error>,
) -> Result<(R, Obtained), Error>
where
    T: Generated,
    A: Acquire<'c, Database = Postgres>,
{
    let call = CallSpan::start(Op::InsertOrGet, &key, 1, 1);
    traced(
        call,
        obtain(row, insert_sql, select_sql, key, executor, read),
        |call, (_, obtained)| call.obtained(*obtained == Obtained::Inserted),
    )
    .await
}

async fn obtain<'c, T, R, A>(
    row: &T,
    insert_sql: &'static str,
    select_sql: &'static str,
    key: TableKey,
    executor: A,
    read: fn(&PgRow) -> Result<R, sqlx::Error>,
) -> Result<(R, Obtained), Error>
where
    T: Generated,
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
            let inserted = read(&stored).map_err(|source| Error::unreadable(&stored, source))?;
            return Ok((inserted, Obtained::Inserted));
        }
        if let Some(stored) = row
            .bind_key(sqlx::query(select_sql))
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?
        {
            return Ok((read(&stored).map_err(Error::Sqlx)?, Obtained::Existing));
        }
    }
    Err(Error::Contended {
        attempts: GET_ATTEMPTS,
    })
}

/// How many insert-then-select rounds `insert_or_get` makes before it reports contention.
const GET_ATTEMPTS: u32 = 16;

/// Runs an upsert with `RETURNING`, bound in `query`, and reads the stored row with `read`:
/// the struct itself (`UPSERT_RETURNING_SQL`) or a read model (the plan's `RETURNING *`
/// statement); `None` when nothing was written.
pub(crate) async fn returning<'c, R, E>(
    query: PgQuery<'_>,
    key: TableKey,
    attempt: u32,
    executor: E,
    read: fn(&PgRow) -> Result<R, sqlx::Error>,
) -> Result<Option<R>, Error>
where
    E: PgExecutor<'c>,
{
    let call = CallSpan::start(Op::UpsertReturning, &key, 1, attempt);
    traced(
        call,
        async move {
            query
                .fetch_optional(executor)
                .await
                .map_err(|error| Error::classify(error, &key))?
                .as_ref()
                .map(|stored| {
                    // The statement has run: the write stands, only reading it back failed.
                    read(stored).map_err(|source| Error::unreadable(stored, source))
                })
                .transpose()
        },
        |call, stored| call.returned(stored.is_some()),
    )
    .await
}
