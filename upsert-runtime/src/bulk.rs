//! Bulk upserts: one constant-shape statement per call, duplicates resolved, key order,
//! all-or-nothing.
//!
//! Two paths share the same deduplicating `INSERT .. SELECT .. ON CONFLICT` body:
//! - `UNNEST`: one array parameter per column, one prepared statement for every batch
//!   size, one round trip. Best for small and medium batches.
//! - `COPY`: rows streamed in PostgreSQL's binary COPY format into a temporary table
//!   (memory bounded by [`COPY_CHUNK_BYTES`], not by the batch), then one
//!   `INSERT .. SELECT` from it, in a transaction (a savepoint inside the caller's).
//!
//! [`BulkPath::Auto`] picks `COPY` above [`COPY_THRESHOLD`] rows, a crossover measured by
//! `cargo bench --bench upsert` (its bulk workloads; see PERFORMANCE.md).

use sqlx::postgres::Postgres;
use sqlx::{Acquire, Row as _};
use upsert_core::bulk::{drop_stage, stage_ddl};

use crate::error::{Error, TableKey};
use crate::outcome::BatchOutcome;
use crate::private::{CopyBuffer, Generated};

/// Batches with more rows than this take the `COPY` path under [`BulkPath::Auto`].
pub const COPY_THRESHOLD: usize = 20_000;

/// The `COPY` path sends its rows in chunks of about this many bytes.
pub const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Which way [`AtomicUpsert::upsert_many_via`](crate::AtomicUpsert::upsert_many_via) sends a batch. Both give the same result.
///
/// ```
/// use atomic_upsert::BulkPath;
/// assert_eq!(BulkPath::default(), BulkPath::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BulkPath {
    /// `Unnest` up to [`COPY_THRESHOLD`] rows, `Copy` above.
    #[default]
    Auto,
    /// One statement with one array parameter per column.
    Unnest,
    /// Binary `COPY` into a temporary table, then one `INSERT .. SELECT`.
    Copy,
}

/// Upserts `rows` on `path`; `unnest_sql` is `UPSERT_MANY_SQL`, and errors are classified
/// against `key`.
pub(crate) async fn upsert_many<'c, T, A>(
    executor: A,
    rows: &[T],
    path: BulkPath,
    unnest_sql: &'static str,
    key: TableKey,
) -> Result<BatchOutcome, Error>
where
    T: Generated,
    A: Acquire<'c, Database = Postgres>,
{
    if rows.is_empty() {
        return Ok(BatchOutcome::default());
    }
    let use_copy = match path {
        BulkPath::Auto => rows.len() > COPY_THRESHOLD,
        BulkPath::Unnest => false,
        BulkPath::Copy => true,
    };
    let classify = |error| Error::classify(error, &key);
    let counts = if use_copy {
        let mut tx = executor.begin().await.map_err(Error::Sqlx)?;
        let types = T::stage_types();
        let ddl = stage_ddl(
            &upsert_core::Postgres,
            T::PLAN
                .stage_columns
                .iter()
                .copied()
                .zip(types.iter().map(sqlx::TypeInfo::name)),
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        copy_rows(&mut tx, rows, key).await?;
        let counts = sqlx::query(T::PLAN.stage_upsert_sql)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop_stage(&upsert_core::Postgres)))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(Error::Sqlx)?;
        counts
    } else {
        let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
        T::bind_rows(rows, sqlx::query(unnest_sql))
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?
    };
    let count = |i: usize| -> Result<u64, Error> {
        let n: i64 = counts.try_get(i).map_err(Error::Sqlx)?;
        Ok(n.unsigned_abs())
    };
    let tally = T::PLAN
        .counts
        .tally(rows.len() as u64, [count(0)?, count(1)?, count(2)?]);
    Ok(BatchOutcome {
        inserted: tally.inserted,
        updated: tally.updated,
        skipped: tally.skipped,
    })
}

async fn copy_rows<T: Generated>(
    conn: &mut sqlx::PgConnection,
    rows: &[T],
    key: TableKey,
) -> Result<(), Error> {
    let classify = |error| Error::classify(error, &key);
    let mut copy = conn
        .copy_in_raw(T::PLAN.stage_copy_sql)
        .await
        .map_err(classify)?;
    let mut buffer = CopyBuffer::new();
    let fields = T::PLAN.stage_columns.len() + 1;
    for (index, row) in rows.iter().enumerate() {
        buffer.start_row(fields);
        if let Err(source) = row.copy_row(&mut buffer) {
            let _ = copy.abort("a row could not be encoded").await;
            return Err(Error::Encode { index, source });
        }
        buffer.ordinal(i64::try_from(index).unwrap_or(i64::MAX) + 1);
        if buffer.len() >= COPY_CHUNK_BYTES {
            copy.send(buffer.take()).await.map_err(classify)?;
        }
    }
    buffer.finish();
    copy.send(buffer.take()).await.map_err(classify)?;
    copy.finish()
        .await
        .map_err(|error| copy_error(error, &key))?;
    Ok(())
}

/// Classifies a COPY error and, when PostgreSQL names the line (`COPY .., line N, ..`),
/// the batch row it came from.
fn copy_error(error: sqlx::Error, target: &TableKey) -> Error {
    let line = match &error {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|pg| pg.r#where())
            .and_then(|context| {
                let rest = &context[context.find(", line ")? + 7..];
                rest[..rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len())]
                    .parse::<usize>()
                    .ok()
            }),
        _ => None,
    };
    let error = Error::classify(error, target);
    match line {
        Some(line) if line > 0 => Error::Row {
            index: line - 1,
            source: Box::new(error),
        },
        _ => error,
    }
}
