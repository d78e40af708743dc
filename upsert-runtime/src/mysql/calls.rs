//! The calls on MySQL/MariaDB. One row: one `INSERT .. ON DUPLICATE KEY UPDATE`, whose
//! outcome is the `LAST_INSERT_ID` it leaves (`upsert_core::mysql::statements`). A batch:
//! chunks of multi-row statements in one transaction (a savepoint inside the caller's),
//! in lock order ([`lock_order`]) and otherwise as one by one would apply them, each
//! followed by a read of its counters; a failed chunk is applied row by row inside a
//! savepoint (then rolled back) to name the row at fault. A batch dropped part way closes
//! the connection it took from a pool instead of returning it ([`Guarded`]): sqlx's MySQL
//! driver can leave such a connection waiting for a reply the server never sends (seen in
//! the conformance suite's dropped calls: the next `acquire` on a pool of one timed out,
//! the server's session idle).

use std::cmp::Ordering;
use std::future::Future;

use sqlx::mysql::{MySql, MySqlConnection, MySqlQueryResult};
use sqlx::{Acquire, Executor, Row as _};
use upsert_core::mysql::statements::{COUNTS, HELD, UPDATED};
use upsert_core::{Role, Unwritten};

use crate::dispatch::{Batches, BulkPath, Runs, Sql, Statements};
use crate::error::{Error, TableKey};
use crate::mysql::generated::{GeneratedMySql, MySqlPlan, MySqlQuery};
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::cancel::{Acquired, Guarded};
use crate::postgres::generated::Generated;
use crate::telemetry::{CallSpan, Op, traced};

use super::verify;

/// The `db.system.name` of MySQL calls.
pub(super) const SYSTEM: &str = "mysql";

/// What a single-row statement did, from the `LAST_INSERT_ID` it left.
fn outcome(done: &MySqlQueryResult, unwritten: Unwritten) -> UpsertOutcome {
    match done.last_insert_id() {
        UPDATED => UpsertOutcome::Updated,
        HELD => match unwritten {
            Unwritten::Unchanged => UpsertOutcome::Unchanged,
            Unwritten::Skipped | Unwritten::Told => UpsertOutcome::Skipped,
        },
        // 0, or the id an `AUTO_INCREMENT` column took.
        _ => UpsertOutcome::Inserted,
    }
}

impl<T> Statements<T> for MySql
where
    T: GeneratedMySql<MySql>,
{
    fn statements() -> Sql {
        let plan = T::MYSQL;
        Sql {
            upsert: plan.upsert_sql,
            update_first: None,
            insert_or_ignore: plan.insert_or_ignore_sql,
            upsert_returning: plan.returning_sql,
            upsert_many: plan.chunks.first().map_or("", |chunk| chunk.upsert_sql),
        }
    }
}

impl<'c, T, E> Runs<'c, T, E> for MySql
where
    T: GeneratedMySql<MySql>,
    E: Executor<'c, Database = MySql> + Send,
{
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::Upsert, &key, 1, 1),
            single(row, T::MYSQL.upsert_sql, T::MYSQL.unwritten, executor, key),
            |call, outcome| call.outcome(*outcome),
        )
    }

    fn insert_or_ignore(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::InsertOrIgnore, &key, 1, 1),
            single(
                row,
                T::MYSQL.insert_or_ignore_sql,
                Unwritten::Skipped,
                executor,
                key,
            ),
            |call, outcome| call.outcome(*outcome),
        )
    }
}

/// One single-row statement, its outcome read from `LAST_INSERT_ID`.
async fn single<'c, T, E>(
    row: &T,
    sql: &'static str,
    unwritten: Unwritten,
    executor: E,
    key: TableKey,
) -> Result<UpsertOutcome, Error>
where
    T: GeneratedMySql<MySql>,
    E: Executor<'c, Database = MySql>,
{
    let done = row
        .bind_row_mysql(sqlx::query(sql))
        .execute(executor)
        .await
        .map_err(|error| Error::classify(error, &key))?;
    Ok(outcome(&done, unwritten))
}

impl<'c, T, A> Batches<'c, T, A> for MySql
where
    T: GeneratedMySql<MySql> + Generated,
    A: Acquire<'c, Database = MySql> + Send,
    A::Connection: Acquired<MySql>,
{
    /// MySQL has one path (chunks applied in order); `path` is ignored.
    fn upsert_many(
        executor: A,
        rows: &[T],
        _path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::UpsertMany, &key, rows.len(), 1),
            async move {
                if rows.is_empty() {
                    return Ok(BatchOutcome::default());
                }
                let classify = |error| Error::classify(error, &key);
                let mut conn = Guarded::new(executor.acquire().await.map_err(classify)?);
                let outcome = async {
                    let mut tx = sqlx::Connection::begin(&mut *conn)
                        .await
                        .map_err(classify)?;
                    let outcome = chunks(rows, &lock_order(rows), &mut tx, key).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(outcome)
                }
                .await;
                conn.finished();
                outcome
            },
            CallSpan::batch,
        )
    }

    /// Row by row in one transaction: a chunk statement counts, it cannot say which row did
    /// what.
    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        _path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::UpsertManyOutcomes, &key, rows.len(), 1),
            async move {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let classify = |error| Error::classify(error, &key);
                let mut conn = Guarded::new(executor.acquire().await.map_err(classify)?);
                let outcomes = async {
                    let mut tx = sqlx::Connection::begin(&mut *conn)
                        .await
                        .map_err(classify)?;
                    let mut outcomes = Vec::with_capacity(rows.len());
                    for (index, row) in rows.iter().enumerate() {
                        let sql = T::MYSQL.upsert_sql;
                        outcomes.push(
                            single(row, sql, T::MYSQL.unwritten, &mut *tx, key)
                                .await
                                .map_err(|source| Error::Row {
                                    index,
                                    source: Box::new(source),
                                })?,
                        );
                    }
                    tx.commit().await.map_err(classify)?;
                    Ok(outcomes)
                }
                .await;
                conn.finished();
                outcomes
            },
            |call, outcomes| call.batch(&BatchOutcome::of(outcomes)),
        )
    }

    async fn verify(executor: A) -> Result<(), Error> {
        let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
        verify::verify_struct::<T>(&mut conn).await
    }
}

/// The order a batch's rows are written in: by key, so that two batches over the same
/// keys lock their rows in one order and cannot deadlock on each other; equal keys keep
/// their input order, so the last of them wins, as one by one. Only where the client's
/// order agrees with the server's equality: integer, boolean and UUID keys. A key with a
/// string (the default collations call `'x'` and `'X '` one key, which a byte order could
/// put apart and reorder) or a type with no client order keeps the input order.
pub(super) fn lock_order<T: Generated>(rows: &[T]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let by_value = !T::PLAN
        .fields
        .iter()
        .any(|field| field.role == Role::Key && field.text);
    let cmp = |a: &T, b: &T| T::key_cmp(a, b);
    if by_value
        && rows
            .first()
            .is_some_and(|first| cmp(first, first).is_some())
        && !rows
            .windows(2)
            .all(|pair| cmp(&pair[0], &pair[1]).is_some_and(Ordering::is_le))
    {
        // Stable: equal keys keep their input order.
        order.sort_by(|&a, &b| cmp(&rows[a], &rows[b]).unwrap_or(Ordering::Equal));
    }
    order
}

/// `sql` with `rows`' written fields bound, row after row.
fn bind<'q, T: GeneratedMySql<MySql>>(rows: &[&'q T], sql: &'static str) -> MySqlQuery<'q> {
    rows.iter()
        .fold(sqlx::query(sql), |query, row| row.bind_row_mysql(query))
}

/// A batch as chunk statements, largest first, each followed by a read of its counters:
/// the rows it updated and the rows a guard held back; the rest inserted. The rows go in
/// `order`; an `Error::Row` names the row's input index.
async fn chunks<T>(
    rows: &[T],
    order: &[usize],
    conn: &mut MySqlConnection,
    key: TableKey,
) -> Result<BatchOutcome, Error>
where
    T: GeneratedMySql<MySql>,
{
    let plan: MySqlPlan = T::MYSQL;
    let classify = |error| Error::classify(error, &key);
    let ordered: Vec<&T> = order.iter().map(|&index| &rows[index]).collect();
    let mut outcome = BatchOutcome::default();
    let mut rest = &ordered[..];
    while !rest.is_empty() {
        let chunk = plan
            .chunks
            .iter()
            .find(|chunk| chunk.rows <= rest.len())
            .unwrap_or(&plan.chunks[plan.chunks.len() - 1]);
        let (part, later) = rest.split_at(chunk.rows.min(rest.len()));
        if let Err(error) = bind(part, chunk.upsert_sql).execute(&mut *conn).await {
            let error = classify(error);
            if !error.is_row_fault() {
                // A deadlock or a lock wait (a deadlock has rolled the transaction back
                // already), a missing table or column: no row is at fault.
                return Err(error);
            }
            let offset = ordered.len() - rest.len();
            return Err(match locate(part, conn, key).await? {
                Some((index, source)) => Error::Row {
                    index: order[offset + index],
                    source: Box::new(source),
                },
                None => error,
            });
        }
        let counts = sqlx::query(COUNTS)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        let updated: i64 = counts.try_get(0).map_err(Error::Sqlx)?;
        let held: i64 = counts.try_get(1).map_err(Error::Sqlx)?;
        let (updated, held) = (
            u64::try_from(updated).unwrap_or_default(),
            u64::try_from(held).unwrap_or_default(),
        );
        outcome.updated += updated;
        outcome.skipped += held;
        outcome.inserted += (part.len() as u64).saturating_sub(updated + held);
        rest = later;
    }
    Ok(outcome)
}

/// The row of a failed chunk that fails alone: the chunk's rows applied one by one, in
/// order, inside a savepoint that is then rolled back (`InnoDB` undid the failed
/// statement). `None` for a failure no row causes alone (a deadlock, a lock wait).
async fn locate<T>(
    part: &[&T],
    conn: &mut MySqlConnection,
    key: TableKey,
) -> Result<Option<(usize, Error)>, Error>
where
    T: GeneratedMySql<MySql>,
{
    let classify = |error| Error::classify(error, &key);
    let mut savepoint = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(classify)?;
    let mut found = None;
    for (index, row) in part.iter().enumerate() {
        if let Err(error) = row
            .bind_row_mysql(sqlx::query(T::MYSQL.upsert_sql))
            .execute(&mut *savepoint)
            .await
        {
            let error = classify(error);
            if !error.is_transient() {
                found = Some((index, error));
            }
            break;
        }
    }
    savepoint.rollback().await.map_err(classify)?;
    Ok(found)
}
