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

use std::fmt::Write as _;

use sqlx::postgres::Postgres;
use sqlx::{Acquire, Row as _, TypeInfo as _};

use crate::error::{Error, quote_ident};
use crate::execute::target;
use crate::private::CopyBuffer;
use crate::{AtomicUpsert, BatchOutcome};

/// Batches with more rows than this take the `COPY` path under [`BulkPath::Auto`].
pub const COPY_THRESHOLD: usize = 20_000;

/// The `COPY` path sends its rows in chunks of about this many bytes.
pub const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Which way [`AtomicUpsert::upsert_many_via`] sends a batch. Both give the same result.
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

/// The name of the staging table; must match the derive's `sql::STAGE_TABLE`.
const STAGE_TABLE: &str = "__atomic_upsert_stage";
const ORD_COLUMN: &str = "__atomic_upsert_ord";
const DROP_STAGE: &str = "DROP TABLE \"__atomic_upsert_stage\"";

pub(crate) async fn upsert_many<'c, T, A>(
    executor: A,
    rows: &[T],
    path: BulkPath,
) -> Result<BatchOutcome, Error>
where
    T: AtomicUpsert,
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
    let classify = |error| Error::classify(error, &target::<T>());
    let counts = if use_copy {
        let mut tx = executor.begin().await.map_err(Error::Sqlx)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(stage_ddl::<T>()))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        copy_rows(&mut tx, rows).await?;
        let counts = sqlx::query(T::__STAGE_UPSERT_SQL)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::raw_sql(DROP_STAGE)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(Error::Sqlx)?;
        counts
    } else {
        let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
        T::__bind_many(rows, sqlx::query(T::UPSERT_MANY_SQL))
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?
    };
    let count = |i: usize| -> Result<u64, Error> {
        let n: i64 = counts.try_get(i).map_err(Error::Sqlx)?;
        Ok(n.unsigned_abs())
    };
    if T::__GUARDED {
        // Written keys, inserted keys, and the batch rows that applied to written keys.
        let (inserted, applied) = (count(1)?, count(2)?);
        return Ok(BatchOutcome {
            inserted,
            updated: applied.saturating_sub(inserted),
            skipped: (rows.len() as u64).saturating_sub(applied),
        });
    }
    let (distinct, inserted, updated) = (count(0)?, count(1)?, count(2)?);
    let repeats = rows.len() as u64 - distinct;
    // Applied one by one, a key's later rows update it, or are skipped when the struct
    // has nothing to update; keys whose write was not returned were skipped.
    Ok(if T::__UPDATES_ON_CONFLICT {
        BatchOutcome {
            inserted,
            updated: updated + repeats,
            skipped: distinct - inserted - updated,
        }
    } else {
        BatchOutcome {
            inserted,
            updated,
            skipped: distinct - inserted - updated + repeats,
        }
    })
}

/// `CREATE TEMP TABLE` for the bound columns, typed as sqlx encodes them (binary COPY
/// does no casts). Only identifiers from the derive and sqlx's type names go in.
fn stage_ddl<T: AtomicUpsert>() -> String {
    let mut ddl = format!("CREATE TEMP TABLE {} (", quote_ident(STAGE_TABLE));
    for (column, ty) in T::__STAGE_COLUMNS.iter().zip(T::__stage_types()) {
        let _ = write!(ddl, "{} {}, ", quote_ident(column), ty.name());
    }
    let _ = write!(ddl, "{} int8) ON COMMIT DROP", quote_ident(ORD_COLUMN));
    ddl
}

async fn copy_rows<T: AtomicUpsert>(
    conn: &mut sqlx::PgConnection,
    rows: &[T],
) -> Result<(), Error> {
    let classify = |error| Error::classify(error, &target::<T>());
    let mut copy = conn
        .copy_in_raw(T::__STAGE_COPY_SQL)
        .await
        .map_err(classify)?;
    let mut buffer = CopyBuffer::new();
    let fields = T::__STAGE_COLUMNS.len() + 1;
    for (index, row) in rows.iter().enumerate() {
        buffer.start_row(fields);
        if let Err(source) = row.__copy_row(&mut buffer) {
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
        .map_err(|error| copy_error(error, &target::<T>()))?;
    Ok(())
}

/// Classifies a COPY error and, when PostgreSQL names the line (`COPY .., line N, ..`),
/// the batch row it came from.
fn copy_error(error: sqlx::Error, target: &crate::error::Target) -> Error {
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
