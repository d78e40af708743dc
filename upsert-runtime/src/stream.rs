//! Streaming imports: a `Stream` of rows upserted through the `COPY` path, chunk by chunk,
//! in one transaction, so memory holds one chunk however long the stream is.

use std::pin::pin;

use futures_core::Stream;
use sqlx::Acquire;
use sqlx::postgres::Postgres;

use crate::bulk::{
    COPY_CHUNK_BYTES, apply_in_rounds, copy_error, create_stage, parts_outcome, run_stage, watches,
};
use crate::cancel::{Acquired, Copying, Guarded};
use crate::error::{Error, TableKey};
use crate::outcome::BatchOutcome;
use crate::private::{CopyBuffer, Generated};
use crate::telemetry::{Call, Op, traced};

/// [`AtomicUpsert::upsert_stream`](crate::AtomicUpsert::upsert_stream): every row of `rows`
/// binary-`COPY`d into a staging table (a chunk of [`COPY_CHUNK_BYTES`] at a time,
/// `progress` told the running row count after each), then the bulk statement over the
/// whole stage: one-by-one semantics across the stream, all or nothing.
///
/// `into_row` turns item `index` into its row, or into the error that ends the import
/// (a `TryStream`'s own errors): the `COPY` is aborted, and nothing is written.
pub(crate) async fn upsert_stream<'c, T, A, S, P, F>(
    executor: A,
    rows: S,
    mut into_row: F,
    mut progress: P,
    key: TableKey,
) -> Result<BatchOutcome, Error>
where
    T: Generated,
    A: Acquire<'c, Database = Postgres>,
    A::Connection: Acquired,
    S: Stream,
    F: FnMut(S::Item, usize) -> Result<T, Error>,
    P: FnMut(u64),
{
    let call = Call::start(Op::UpsertStream, &key, 0, 1);
    call.bulk_path(true, false);
    traced(
        call,
        async move {
            let classify = |error| Error::classify(error, &key);
            let plan = T::PLAN;
            let mut conn = Guarded::new(executor.acquire().await.map_err(classify)?);
            let answer = async {
                let mut tx = sqlx::Connection::begin(&mut *conn)
                    .await
                    .map_err(classify)?;
                create_stage(&mut tx, &T::stage_types(), &plan, key).await?;
                let (count, signs) =
                    copy_stream(&mut tx, rows, &mut into_row, &mut progress, key).await?;
                if count == 0 {
                    return Ok(BatchOutcome::default());
                }
                let stage_sql = match plan.returning_old {
                    Some(old) if crate::execute::returns_old(&tx) => old.stage_upsert,
                    _ => plan.stage_upsert_sql,
                };
                // A stream's keys may repeat: where the table watches every row, or an `add`
                // column gets amounts of both signs (a running sum may overflow), rounds.
                let parts = if crate::private::mixed_signs(signs) || watches(&mut tx, &key).await? {
                    apply_in_rounds(&mut tx, &plan, stage_sql, key).await?
                } else {
                    let rows = usize::try_from(count).unwrap_or(usize::MAX);
                    vec![(rows, run_stage(&mut tx, stage_sql, key).await?)]
                };
                tx.commit().await.map_err(classify)?;
                parts_outcome(&parts, plan.counts)
            }
            .await;
            conn.finished();
            answer
        },
        Call::batch,
    )
    .await
}

/// `COPY`s every row of `rows` into the staging table, a chunk at a time; the row count,
/// and the rows' `add` signs ([`Generated::add_signs`]) together.
async fn copy_stream<T, S, F, P>(
    conn: &mut sqlx::PgConnection,
    rows: S,
    into_row: &mut F,
    progress: &mut P,
    key: TableKey,
) -> Result<(u64, u64), Error>
where
    T: Generated,
    S: Stream,
    F: FnMut(S::Item, usize) -> Result<T, Error>,
    P: FnMut(u64),
{
    let classify = |error| Error::classify(error, &key);
    let plan = T::PLAN;
    let mut copy = Copying::new(
        conn.copy_in_raw(plan.stage_copy_sql)
            .await
            .map_err(classify)?,
    );
    let mut buffer = CopyBuffer::new();
    let fields = plan.stage_columns.len() + 1;
    let mut rows = pin!(rows);
    let (mut count, mut signs): (u64, u64) = (0, 0);
    while let Some(item) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
        let index = usize::try_from(count).unwrap_or(usize::MAX);
        let row = match into_row(item, index) {
            Ok(row) => row,
            Err(error) => {
                let _ = copy.abort("the stream failed").await;
                return Err(error);
            }
        };
        buffer.start_row(fields);
        if let Err(source) = row.copy_row(&mut buffer) {
            let _ = copy.abort("a row could not be encoded").await;
            return Err(Error::Encode { index, source });
        }
        signs |= row.add_signs();
        count += 1;
        buffer.ordinal(i64::try_from(count).unwrap_or(i64::MAX));
        if buffer.len() >= COPY_CHUNK_BYTES {
            copy.send(buffer.take()).await.map_err(classify)?;
            progress(count);
        }
    }
    buffer.finish();
    copy.send(buffer.take()).await.map_err(classify)?;
    copy.finish()
        .await
        .map_err(|error| copy_error(error, &key))?;
    progress(count);
    Ok((count, signs))
}
