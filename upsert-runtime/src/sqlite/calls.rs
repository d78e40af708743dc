//! The calls on SQLite (the `sqlite` feature): [`Runs`], [`Returns`] and [`Batches`] for
//! `sqlx::Sqlite`.
//!
//! SQLite keeps no `xmax`, so `upsert` learns its outcome another way. Without a guard it
//! updates the stored row first (`UPDATE .. FROM (SELECT ?1 ..) AS excluded .. RETURNING`,
//! the upsert's own `SET` list) and inserts only when no row had the key (`INSERT .. ON
//! CONFLICT DO NOTHING RETURNING`); each statement is atomic, so the one that writes is the
//! outcome, and no lock is held between them. With a guard (`version`, `update_where`,
//! `skip_unchanged`), a row left unwritten could be stale or missing, so it probes the key
//! and writes under one write lock (`BEGIN IMMEDIATE`, or a savepoint inside the
//! caller's transaction, whose snapshot keeps the probe and the write consistent): no other
//! connection can write between the two. A batch runs in one such transaction, as chunk
//! statements of at most [`CHUNK_ROWS`](upsert_core::sqlite::bulk::CHUNK_ROWS) rows
//! applied in order: SQLite applies a multi-row upsert row after row, so each chunk is its
//! rows applied one by one, every strategy and guard included.

use std::future::Future;

use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::{Acquire, Connection as _, Executor, Row as _, Transaction};

use crate::dispatch::{Batches, BulkPath, Returns, Runs, Sql, Statements};
use crate::error::{Error, TableKey};
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::generated::Generated;
use crate::sqlite::generated::{FromStoredSqlite, GeneratedSqlite, SqlitePlan, SqliteSingle};
use crate::telemetry::{CallSpan, Op, traced};

use upsert_core::Tally;
use upsert_core::Unwritten;

use super::verify;

/// The `db.system.name` of SQLite calls.
const SYSTEM: &str = "sqlite";

impl<T> Statements<T> for Sqlite
where
    T: GeneratedSqlite<Sqlite>,
{
    fn statements() -> Sql {
        let plan = T::SQLITE;
        Sql {
            upsert: plan.upsert_sql,
            update_first: match plan.single {
                SqliteSingle::UpdateFirst(sql) => Some(sql),
                SqliteSingle::Probe | SqliteSingle::Write => None,
            },
            insert_or_ignore: plan.insert_or_ignore_sql,
            upsert_returning: plan.returning_sql,
            upsert_many: plan.chunks.first().map_or("", |chunk| chunk.upsert_sql),
        }
    }
}

impl<'c, T, E> Runs<'c, T, E> for Sqlite
where
    T: GeneratedSqlite<Sqlite>,
    E: Executor<'c, Database = Sqlite> + Acquire<'c, Database = Sqlite> + Send,
{
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::Upsert, &key, 1, 1),
            async move {
                let classify = |error| Error::classify(error, &key);
                let mut conn = executor.acquire().await.map_err(classify)?;
                if let SqliteSingle::Probe = T::SQLITE.single {
                    let mut tx = write_lock(&mut conn).await.map_err(classify)?;
                    let outcome = apply(row, &mut tx, key).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(outcome)
                } else {
                    apply(row, &mut conn, key).await
                }
            },
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
            insert_or_skip(row, T::SQLITE.insert_or_ignore_sql, executor, key),
            |call, outcome| call.outcome(*outcome),
        )
    }
}

impl<'c, T, E> Returns<'c, T, E> for Sqlite
where
    T: GeneratedSqlite<Sqlite> + for<'r> FromStoredSqlite<'r, Sqlite>,
    E: Executor<'c, Database = Sqlite> + Acquire<'c, Database = Sqlite> + Send,
{
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::UpsertReturning, &key, 1, 1),
            async move {
                row.bind_row_sqlite(sqlx::query(T::SQLITE.returning_sql))
                    .fetch_all(executor)
                    .await
                    .map_err(|error| Error::classify(error, &key))?
                    .into_iter()
                    .next()
                    .as_ref()
                    .map(|stored| {
                        // The statement has run: the write stands, only reading it back
                        // failed.
                        T::from_stored_sqlite(stored)
                            .map_err(|source| Error::unreadable(stored, source))
                    })
                    .transpose()
            },
            |call, stored| call.returned(stored.is_some()),
        )
    }
}

impl<'c, T, A> Batches<'c, T, A> for Sqlite
where
    T: GeneratedSqlite<Sqlite> + Generated,
    A: Acquire<'c, Database = Sqlite> + Send,
{
    /// SQLite has one path; `path` is ignored.
    fn upsert_many(
        executor: A,
        rows: &[T],
        _path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send {
        let key = T::KEY;
        let call = CallSpan::start_on(SYSTEM, Op::UpsertMany, &key, rows.len(), 1);
        traced(
            call,
            async move {
                if rows.is_empty() {
                    return Ok(BatchOutcome::default());
                }
                let classify = |error| Error::classify(error, &key);
                let mut conn = executor.acquire().await.map_err(classify)?;
                let mut tx = write_lock(&mut conn).await.map_err(classify)?;
                let outcome = chunks(rows, &mut tx, key).await?;
                tx.commit().await.map_err(classify)?;
                Ok(outcome)
            },
            CallSpan::batch,
        )
    }

    /// Row by row under one write lock: SQLite's chunk statement cannot tell which of its
    /// rows wrote.
    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        _path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send {
        let key = T::KEY;
        let call = CallSpan::start_on(SYSTEM, Op::UpsertManyOutcomes, &key, rows.len(), 1);
        traced(
            call,
            async move {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let classify = |error| Error::classify(error, &key);
                let mut conn = executor.acquire().await.map_err(classify)?;
                let mut tx = write_lock(&mut conn).await.map_err(classify)?;
                let mut outcomes = Vec::with_capacity(rows.len());
                for (index, row) in rows.iter().enumerate() {
                    outcomes.push(
                        apply(row, &mut tx, key)
                            .await
                            .map_err(|source| Error::Row {
                                index,
                                source: Box::new(source),
                            })?,
                    );
                }
                tx.commit().await.map_err(classify)?;
                Ok(outcomes)
            },
            |call, outcomes| call.batch(&BatchOutcome::of(outcomes)),
        )
    }

    async fn verify(executor: A) -> Result<(), Error> {
        let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
        verify::verify_struct::<T>(&mut conn).await
    }
}

/// The write lock: `BEGIN IMMEDIATE` on a connection outside a transaction (it waits for
/// other writers up to the connection's busy timeout, sqlx's default 5 s), a savepoint
/// inside the caller's transaction.
async fn write_lock(conn: &mut SqliteConnection) -> Result<Transaction<'_, Sqlite>, sqlx::Error> {
    if conn.is_in_transaction() {
        sqlx::Connection::begin(conn).await
    } else {
        conn.begin_with("BEGIN IMMEDIATE").await
    }
}

/// One row, the way its struct learns the outcome ([`SqliteSingle`]); for `Probe`, `conn`
/// must hold the write lock.
async fn apply<T>(
    row: &T,
    conn: &mut SqliteConnection,
    key: TableKey,
) -> Result<UpsertOutcome, Error>
where
    T: GeneratedSqlite<Sqlite>,
{
    match T::SQLITE.single {
        SqliteSingle::UpdateFirst(update_sql) => update_first(row, update_sql, conn, key).await,
        SqliteSingle::Probe => probe_and_write(row, conn, key).await,
        SqliteSingle::Write => insert_or_skip(row, T::SQLITE.upsert_sql, conn, key).await,
    }
}

/// One statement that inserts or writes nothing (`ON CONFLICT DO NOTHING RETURNING 1`):
/// a returned row is an insert, none a skip.
async fn insert_or_skip<'c, T, E>(
    row: &T,
    sql: &'static str,
    executor: E,
    key: TableKey,
) -> Result<UpsertOutcome, Error>
where
    T: GeneratedSqlite<Sqlite>,
    E: Executor<'c, Database = Sqlite>,
{
    let written = row
        .bind_row_sqlite(sqlx::query(sql))
        .fetch_all(executor)
        .await
        .map_err(|error| Error::classify(error, &key))?
        .into_iter()
        .next();
    Ok(if written.is_some() {
        UpsertOutcome::Inserted
    } else {
        UpsertOutcome::Skipped
    })
}

/// An unguarded row: update the stored row, else insert it; each statement atomic, so the
/// one that writes tells the outcome. A row inserted (or deleted) by another connection
/// between the two makes it try again, at most `ATTEMPTS` times.
async fn update_first<T>(
    row: &T,
    update_sql: &'static str,
    conn: &mut SqliteConnection,
    key: TableKey,
) -> Result<UpsertOutcome, Error>
where
    T: GeneratedSqlite<Sqlite>,
{
    const ATTEMPTS: u32 = 16;
    let classify = |error| Error::classify(error, &key);
    for _ in 0..ATTEMPTS {
        let updated = row
            .bind_row_sqlite(sqlx::query(update_sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?
            .into_iter()
            .next();
        if updated.is_some() {
            return Ok(UpsertOutcome::Updated);
        }
        if insert_or_skip(row, T::SQLITE.insert_or_ignore_sql, &mut *conn, key).await?
            == UpsertOutcome::Inserted
        {
            return Ok(UpsertOutcome::Inserted);
        }
    }
    Err(Error::Contended { attempts: ATTEMPTS })
}

/// A guarded row's probe and write, under the caller's write lock.
async fn probe_and_write<T>(
    row: &T,
    conn: &mut SqliteConnection,
    key: TableKey,
) -> Result<UpsertOutcome, Error>
where
    T: GeneratedSqlite<Sqlite>,
{
    let plan: SqlitePlan = T::SQLITE;
    let classify = |error| Error::classify(error, &key);
    let stored = row
        .bind_key_sqlite(sqlx::query(plan.probe_sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?
        .into_iter()
        .next()
        .is_some();
    let written = row
        .bind_row_sqlite(sqlx::query(plan.upsert_sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?
        .into_iter()
        .next()
        .is_some();
    Ok(match (written, stored) {
        (true, false) => UpsertOutcome::Inserted,
        (true, true) => UpsertOutcome::Updated,
        (false, _) => match plan.unwritten {
            Unwritten::Unchanged => UpsertOutcome::Unchanged,
            Unwritten::Skipped | Unwritten::Told => UpsertOutcome::Skipped,
        },
    })
}

/// A batch as chunk statements, largest first: for each chunk, how many distinct keys it
/// has and how many of them are stored, then the write, whose change count says how many
/// rows wrote. A key's first row inserts it unless it was stored; every other row that
/// wrote updated; the rest were skipped (nothing to update, a guard, unchanged).
async fn chunks<T>(
    rows: &[T],
    conn: &mut SqliteConnection,
    key: TableKey,
) -> Result<BatchOutcome, Error>
where
    T: GeneratedSqlite<Sqlite>,
{
    let plan: SqlitePlan = T::SQLITE;
    let classify = |error| Error::classify(error, &key);
    let mut outcome = BatchOutcome::default();
    let mut rest = rows;
    while !rest.is_empty() {
        let chunk = plan
            .chunks
            .iter()
            .find(|chunk| chunk.rows <= rest.len())
            .unwrap_or(&plan.chunks[plan.chunks.len() - 1]);
        let (part, later) = rest.split_at(chunk.rows.min(rest.len()));
        let counts = T::bind_key_rows_sqlite(part, sqlx::query(chunk.existing_sql))
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        let distinct: i64 = counts.try_get(0).map_err(Error::Sqlx)?;
        let existing: i64 = counts.try_get(1).map_err(Error::Sqlx)?;
        let written = match T::bind_rows_sqlite(part, sqlx::query(chunk.upsert_sql))
            .execute(&mut *conn)
            .await
        {
            Ok(done) => done.rows_affected(),
            Err(error) => {
                let error = classify(error);
                let offset = rows.len() - rest.len();
                return Err(match locate(part, conn, key, &error).await? {
                    Some((index, source)) => Error::Row {
                        index: offset + index,
                        source: Box::new(source),
                    },
                    None => error,
                });
            }
        };
        let inserted = u64::try_from(distinct - existing).unwrap_or_default();
        let tally = Tally {
            inserted,
            updated: written.saturating_sub(inserted),
            skipped: (part.len() as u64).saturating_sub(written),
        };
        outcome.inserted += tally.inserted;
        outcome.updated += tally.updated;
        outcome.skipped += tally.skipped;
        rest = later;
    }
    Ok(outcome)
}

/// The row of a failed chunk that fails alone: the chunk's rows applied one by one, in
/// order, by the one-row chunk statement inside a savepoint that is then rolled back
/// (SQLite already undid the failed statement). `None` for a failure no row causes alone
/// (the write lock, `SQLITE_BUSY`; a missing table or column), which is returned as it was.
async fn locate<T>(
    part: &[T],
    conn: &mut SqliteConnection,
    key: TableKey,
    error: &Error,
) -> Result<Option<(usize, Error)>, Error>
where
    T: GeneratedSqlite<Sqlite>,
{
    let plan: SqlitePlan = T::SQLITE;
    let single = plan.chunks.iter().find(|chunk| chunk.rows == 1);
    let (Some(single), true) = (single, error.is_row_fault()) else {
        return Ok(None);
    };
    let classify = |error| Error::classify(error, &key);
    let mut savepoint = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(classify)?;
    let mut found = None;
    for (index, row) in part.iter().enumerate() {
        if let Err(error) =
            T::bind_rows_sqlite(std::slice::from_ref(row), sqlx::query(single.upsert_sql))
                .execute(&mut *savepoint)
                .await
        {
            found = Some((index, classify(error)));
            break;
        }
    }
    savepoint.rollback().await.map_err(classify)?;
    Ok(found)
}
