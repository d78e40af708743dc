//! Streaming imports: a `Stream` of rows upserted through the `COPY` path, chunk by chunk,
//! in one transaction, so memory holds one chunk however long the stream is.

use std::pin::pin;

use futures_core::Stream;
use sqlx::Acquire;
use sqlx::postgres::Postgres;

use sqlx::postgres::PgConnection;

use crate::error::{Error, TableKey};
use crate::outcome::BatchOutcome;
use crate::postgres::bulk::{parts_outcome, watches};
use crate::postgres::cancel::{Acquired, Copying, Guarded};
use crate::postgres::generated::{CopyBuffer, Generated, Plan};
use crate::postgres::stage::{
    COPY_CHUNK_BYTES, Rows, STAGE_INSERT_ROWS, apply_in_rounds, copy_error, create_stage,
    insert_chunk, run_stage, staged_ord,
};
use crate::telemetry::{CallSpan, Op, traced};

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
    T: Generated + Sync,
    A: Acquire<'c, Database = Postgres>,
    A::Connection: Acquired,
    S: Stream,
    F: FnMut(S::Item, usize) -> Result<T, Error>,
    P: FnMut(u64),
{
    let call = CallSpan::start(Op::UpsertStream, &key, 0, 1);
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
                // A lent connection stages by `INSERT`: a `COPY` dropped there while the
                // server acknowledges its end would leave the caller's connection out of
                // step.
                let sink = Sink::open(&mut tx, &plan, A::Connection::OWNED, key).await?;
                let (count, signs) = stage_stream(sink, rows, &mut into_row, &mut progress).await?;
                if count == 0 {
                    return Ok(BatchOutcome::default());
                }
                let stage_sql = match plan.returning_old {
                    Some(old) if crate::postgres::execute::returns_old(&tx) => old.stage_upsert,
                    _ => plan.sql.stage_upsert_sql,
                };
                // A stream's keys may repeat: where the table watches every row, or an `add`
                // column gets amounts of both signs (a running sum may overflow), rounds.
                let parts = if crate::addable::mixed_signs(signs) || watches(&mut tx, &key).await? {
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
        CallSpan::batch,
    )
    .await
}

/// Stages every row of `rows`, a chunk at a time; the row count, and the rows' `add`
/// signs ([`Generated::add_signs`]) together.
async fn stage_stream<T, S, F, P>(
    mut sink: Sink<'_, T>,
    rows: S,
    into_row: &mut F,
    progress: &mut P,
) -> Result<(u64, u64), Error>
where
    T: Generated + Sync,
    S: Stream,
    F: FnMut(S::Item, usize) -> Result<T, Error>,
    P: FnMut(u64),
{
    let mut rows = pin!(rows);
    let (mut count, mut signs): (u64, u64) = (0, 0);
    while let Some(item) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
        let index = usize::try_from(count).unwrap_or(usize::MAX);
        let row = match into_row(item, index) {
            Ok(row) => row,
            Err(error) => {
                sink.abort("the stream failed").await;
                return Err(error);
            }
        };
        signs |= row.add_signs();
        count += 1;
        match sink.push(row, index).await {
            Ok(sent) => {
                if sent {
                    progress(count);
                }
            }
            Err(error) => {
                if matches!(error, Error::Encode { .. }) {
                    sink.abort("a row could not be encoded").await;
                }
                return Err(error);
            }
        }
    }
    sink.finish().await?;
    progress(count);
    Ok((count, signs))
}

/// Where a stream's rows go: binary `COPY` on a connection the call owns (closed if the
/// call is dropped mid-`COPY`), `INSERT .. UNNEST` chunks on one a caller lends.
enum Sink<'c, T> {
    Copy {
        copy: Copying<'c>,
        buffer: CopyBuffer,
        fields: usize,
        key: TableKey,
    },
    Insert {
        conn: &'c mut PgConnection,
        sql: &'static str,
        rows: Vec<T>,
        ords: Vec<i64>,
        key: TableKey,
    },
}

impl<'c, T: Generated + Sync> Sink<'c, T> {
    async fn open(
        conn: &'c mut PgConnection,
        plan: &Plan,
        copy: bool,
        key: TableKey,
    ) -> Result<Self, Error> {
        if !copy {
            return Ok(Sink::Insert {
                conn,
                sql: plan.sql.stage_insert_sql,
                rows: Vec::new(),
                ords: Vec::new(),
                key,
            });
        }
        let copy = conn
            .copy_in_raw(plan.sql.stage_copy_sql)
            .await
            .map_err(|error| Error::classify(error, &key))?;
        Ok(Sink::Copy {
            copy: Copying::new(copy),
            buffer: CopyBuffer::new(),
            fields: plan.stage_columns.len() + 1,
            key,
        })
    }

    /// Takes stream row `index`; whether a chunk was sent.
    async fn push(&mut self, row: T, index: usize) -> Result<bool, Error> {
        let ord = staged_ord(None, index);
        match self {
            Sink::Copy {
                copy,
                buffer,
                fields,
                key,
            } => {
                buffer.start_row(*fields);
                row.copy_row(buffer)
                    .map_err(|source| Error::Encode { index, source })?;
                buffer.ordinal(ord);
                if buffer.len() < COPY_CHUNK_BYTES {
                    return Ok(false);
                }
                let chunk = buffer.take();
                copy.send(chunk)
                    .await
                    .map_err(|error| Error::classify(error, key))?;
            }
            Sink::Insert { rows, ords, .. } => {
                rows.push(row);
                ords.push(ord);
                if rows.len() < STAGE_INSERT_ROWS {
                    return Ok(false);
                }
                self.flush().await?;
            }
        }
        Ok(true)
    }

    /// Sends an `Insert` sink's pending rows.
    async fn flush(&mut self) -> Result<(), Error> {
        if let Sink::Insert {
            conn,
            sql,
            rows,
            ords,
            key,
        } = self
            && !rows.is_empty()
        {
            let sent = Rows(rows.iter().collect());
            insert_chunk(conn, &sent, sql, 0, ords, *key).await?;
            rows.clear();
            ords.clear();
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), Error> {
        self.flush().await?;
        if let Sink::Copy {
            mut copy,
            mut buffer,
            key,
            ..
        } = self
        {
            buffer.finish();
            copy.send(buffer.take())
                .await
                .map_err(|error| Error::classify(error, &key))?;
            copy.finish()
                .await
                .map_err(|error| copy_error(error, &key))?;
        }
        Ok(())
    }

    /// Ends the staging after a failure that is not the server's: nothing is written.
    async fn abort(self, reason: &str) {
        if let Sink::Copy { copy, .. } = self {
            let _ = copy.abort(reason).await;
        }
    }
}
