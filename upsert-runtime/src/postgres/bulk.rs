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
//! `cargo bench -p atomic-upsert-bench --bench upsert` (its bulk workloads; see PERFORMANCE.md).

use std::cmp::Ordering;

use sqlx::postgres::{PgRow, PgTypeInfo, Postgres};
use sqlx::{Acquire, Row as _};
use upsert_core::Dialect as _;

use crate::dispatch::BulkPath;
use crate::error::{Error, TableKey};
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::cancel::{Acquired, Guarded};
use crate::postgres::execute::returns_old;
use crate::postgres::generated::{CopyBuffer, Generated, Plan};
use crate::postgres::stage::{
    Probe, Rows, SentRows, apply_in_rounds, create_stage, locatable, run_stage, shortest_failing,
    stage_rows, staged_ord, unencodable,
};
use crate::telemetry::{CallSpan, Op, traced};

/// Batches with more rows than this take the `COPY` path under [`BulkPath::Auto`].
pub const COPY_THRESHOLD: usize = 20_000;

/// Batches whose rows take more than about this many bytes in `COPY`'s binary format take
/// the `COPY` path under [`BulkPath::Auto`] even below [`COPY_THRESHOLD`] rows: wide rows
/// (a `jsonb` payload) gain from `COPY` sooner. 20,000 three-column rows are about this size;
/// for rows of a `text` key and 110 bytes of `jsonb` it is about 5,000 rows.
pub const COPY_THRESHOLD_BYTES: usize = 768 << 10;

/// A batch, ready to send, without naming its struct: the rows behind [`SentRows`], the
/// `UNNEST` statement, and the staging types of the `COPY` path. [`upsert_many`] takes one,
/// so it is compiled once per executor type for a whole program, not once per struct.
pub(crate) struct Batch<'q> {
    rows: usize,
    /// A key may repeat: where the table watches every row (CHECK constraints, row
    /// triggers), the batch is applied in rounds of distinct keys instead of folded.
    may_repeat: bool,
    /// An `add` column gets amounts of both signs (see `Generated::add_signs`): with a
    /// repeated key, rounds whatever the table.
    mixed_adds: bool,
    /// Whether the table watches every row, when the caller knows (the writer's cache);
    /// else asked of the catalog when a key may repeat.
    watches: Option<bool>,
    /// The rows in the order sent (presorted, or as given).
    sent: Sent<'q>,
    /// The `UNNEST` statement: the batch's, and the one that locates a row at fault.
    unnest_sql: &'static str,
    source: Source,
    plan: Plan,
    /// The statement over the staging table (the `COPY` path).
    stage_sql: &'static str,
    /// When the batch goes presorted: the input index of each row sent, in the order sent.
    presorted: Option<Vec<usize>>,
    /// A partitioned table's statements for PostgreSQL 18 and later (`UNNEST`, staging
    /// table), sent instead when the connection's server has `RETURNING old`.
    returning_old: Option<(&'static str, &'static str)>,
}

/// What a batch statement answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// One row of counts (`upsert_many`).
    Counts,
    /// One outcome per batch row, in input order (`upsert_many_outcomes`).
    Outcomes,
}

enum Source {
    Unnest,
    Copy { types: Vec<PgTypeInfo> },
}

impl<'q> Batch<'q> {
    /// The batch, with the table's [`watches`] answer already known.
    pub(crate) fn knowing_watches(mut self, watches: bool) -> Self {
        self.watches = Some(watches);
        self
    }

    /// `rows` on `path`, answering `want`; `unnest_sql` is the `UNNEST` statement that answers
    /// it (`UPSERT_MANY_SQL`, or the plan's `outcomes_sql`). A batch of counts that can go
    /// presorted ([`presort`]) takes the plan's presorted statements instead, on both paths.
    pub(crate) fn of<T: Generated + Sync>(
        rows: &'q [T],
        path: BulkPath,
        unnest_sql: &'static str,
        want: Want,
    ) -> Self {
        let use_copy = match path {
            BulkPath::Auto => {
                rows.len() > COPY_THRESHOLD || estimated_copy_bytes(rows) > COPY_THRESHOLD_BYTES
            }
            BulkPath::Unnest => false,
            BulkPath::Copy => true,
        };
        let mut signs = 0_u64;
        for row in rows {
            signs |= row.add_signs();
        }
        // The rows in the order sent: the presorted order, or as given.
        let sent = |order: Option<&[usize]>| -> Sent<'q> {
            let mut sent: Vec<&T> = Vec::with_capacity(rows.len());
            match order {
                Some(order) => {
                    for &index in order {
                        sent.push(&rows[index]);
                    }
                }
                None => {
                    for row in rows {
                        sent.push(row);
                    }
                }
            }
            Box::new(Rows(sent))
        };
        Self::assemble(
            Shape {
                rows: rows.len(),
                // One sort tells both whether a key repeats and, for distinct keys, the
                // presorted order.
                keyed: key_order(rows),
                signs,
                plan: T::PLAN,
                stage_types: (!rows.is_empty() && use_copy).then(T::stage_types),
            },
            unnest_sql,
            want,
            &sent,
        )
    }

    /// [`Batch::of`]'s choices, made once for every struct: the statements for `want` and
    /// the batch's shape, with the rows behind `sent` in the order it is given.
    fn assemble(
        shape: Shape,
        unnest_sql: &'static str,
        want: Want,
        sent: &dyn Fn(Option<&[usize]>) -> Sent<'q>,
    ) -> Self {
        let Shape {
            rows,
            keyed,
            signs,
            plan,
            stage_types,
        } = shape;
        let may_repeat = keyed.as_ref().map_or(rows > 1, |(_, repeats)| *repeats);
        // An `add` column with amounts of both signs: a running sum may overflow where the
        // key's total does not, which only rounds show as one by one would.
        let mixed_adds = crate::addable::mixed_signs(signs);
        let (presorted, unnest_sql, stage_sql) = match (want, keyed, plan.presorted) {
            (Want::Counts, Some((order, false)), Some(sql)) => (Some(order), sql.unnest, sql.stage),
            (Want::Counts, ..) => (None, unnest_sql, plan.sql.stage_upsert_sql),
            (Want::Outcomes, ..) => (None, unnest_sql, plan.sql.stage_outcomes_sql),
        };
        let returning_old = plan.returning_old.map(|old| match (want, &presorted) {
            (Want::Counts, Some(_)) => old
                .presorted
                .map_or((old.upsert_many, old.stage_upsert), |p| (p.unnest, p.stage)),
            (Want::Counts, None) => (old.upsert_many, old.stage_upsert),
            (Want::Outcomes, _) => (old.outcomes, old.stage_outcomes),
        });
        let source = match stage_types {
            Some(types) => Source::Copy { types },
            None => Source::Unnest,
        };
        Batch {
            rows,
            may_repeat,
            mixed_adds,
            watches: None,
            sent: sent(presorted.as_deref()),
            unnest_sql,
            source,
            plan,
            stage_sql,
            presorted,
            returning_old,
        }
    }
}

/// A batch's rows in the order sent, behind [`SentRows`].
type Sent<'q> = Box<dyn SentRows + Send + Sync + 'q>;

/// What [`Batch::of`] reads from the rows, for [`Batch::assemble`].
struct Shape {
    rows: usize,
    /// [`key_order`]'s answer.
    keyed: Option<(Vec<usize>, bool)>,
    /// Every row's `add_signs`, or-ed.
    signs: u64,
    plan: Plan,
    /// The staging table's column types, on the `COPY` path.
    stage_types: Option<Vec<PgTypeInfo>>,
}

/// The rows' input indexes in the batch's lock order, and whether a key repeats (a row
/// with a NULL key never repeats one, unless the struct says `nulls_not_distinct`). `None`
/// when a key type has no client order (the server folds and sorts; a key is then assumed
/// to repeat). With distinct keys and a struct that can go presorted, the batch goes in
/// this order with no fold. Input already in order is not sorted again.
fn key_order<T: Generated>(rows: &[T]) -> Option<(Vec<usize>, bool)> {
    let first = rows.first()?;
    // A key type with no client order compares nothing.
    T::key_cmp(first, first)?;
    let cmp = |a: usize, b: usize| T::key_cmp(&rows[a], &rows[b]).unwrap_or(Ordering::Equal);
    let is_null = |a: usize| rows[a].key_is_null();
    Some(sorted_keys(
        rows.len(),
        &cmp,
        &is_null,
        !T::PLAN.nulls_not_distinct,
    ))
}

/// [`key_order`]'s work, by row index, through trait objects: the sort and the scans are
/// compiled once, not once per struct.
fn sorted_keys(
    len: usize,
    cmp: &dyn Fn(usize, usize) -> Ordering,
    is_null: &dyn Fn(usize) -> bool,
    nulls_apart: bool,
) -> (Vec<usize>, bool) {
    let mut order: Vec<usize> = (0..len).collect();
    if !(1..len).all(|i| cmp(i - 1, i).is_lt()) {
        // Stable: equal keys keep their input order (they send the batch to the fold).
        order.sort_by(|&a, &b| cmp(a, b));
    }
    let repeats = order
        .windows(2)
        .any(|pair| cmp(pair[0], pair[1]).is_eq() && !(nulls_apart && is_null(pair[0])));
    (order, repeats)
}

/// The size of `rows` in `COPY`'s binary format, estimated from up to 8 rows spread across
/// the batch (the rows that fail to encode count as empty: the real send reports them).
fn estimated_copy_bytes<T: Generated>(rows: &[T]) -> usize {
    const SAMPLES: usize = 8;
    if rows.is_empty() {
        return 0;
    }
    let step = (rows.len() / SAMPLES).max(1);
    let mut buffer = CopyBuffer::new();
    let header = buffer.len();
    let mut sampled = 0;
    // (A plain loop: no iterator adapters compiled for each struct.)
    let mut index = 0;
    while index < rows.len() && sampled < SAMPLES {
        let _ = rows[index].copy_row(&mut buffer);
        sampled += 1;
        index += step;
    }
    (buffer.len() - header) / sampled * rows.len()
}

/// Upserts `batch`, attempt `attempt`; errors are classified against `key`. The future is
/// declared `Send` here, where that is proven once for every executor type.
pub(crate) fn upsert_many<'c, 'q, A>(
    executor: A,
    batch: Batch<'q>,
    key: TableKey,
    attempt: u32,
) -> impl Future<Output = Result<BatchOutcome, Error>> + Send + use<'c, 'q, A>
where
    A: Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    run(executor, batch, key, attempt)
}

async fn run<'c, A>(
    executor: A,
    batch: Batch<'_>,
    key: TableKey,
    attempt: u32,
) -> Result<BatchOutcome, Error>
where
    A: Acquire<'c, Database = Postgres>,
    A::Connection: Acquired,
{
    let call = CallSpan::start(Op::UpsertMany, &key, batch.rows, attempt);
    if batch.rows == 0 {
        let outcome = BatchOutcome::default();
        call.batch(&outcome);
        return Ok(outcome);
    }
    call.bulk_path(
        matches!(batch.source, Source::Copy { .. }),
        batch.presorted.is_some(),
    );
    let counts = batch.plan.counts;
    traced(
        call,
        async move { parts_outcome(&send(executor, batch, key).await?, counts) },
        CallSpan::batch,
    )
    .await
}

/// The [`BatchOutcome`] of a bulk statement's answer (one row laid out as `counts` says)
/// for a batch of `rows` rows.
/// The counts of a batch sent in parts (one statement, or one per round), added up.
pub(crate) fn parts_outcome(
    parts: &[(usize, Vec<PgRow>)],
    counts: upsert_core::postgres::counts::Counts,
) -> Result<BatchOutcome, Error> {
    let mut outcome = BatchOutcome::default();
    for (rows, answer) in parts {
        let part = batch_outcome(answer, counts, *rows as u64)?;
        outcome.inserted += part.inserted;
        outcome.updated += part.updated;
        outcome.skipped += part.skipped;
    }
    Ok(outcome)
}

pub(crate) fn batch_outcome(
    answer: &[PgRow],
    counts: upsert_core::postgres::counts::Counts,
    rows: u64,
) -> Result<BatchOutcome, Error> {
    let counts_row = answer
        .first()
        .ok_or(Error::Sqlx(sqlx::Error::RowNotFound))?;
    let count = |i: usize| -> Result<u64, Error> {
        let n: i64 = counts_row.try_get(i).map_err(Error::Sqlx)?;
        Ok(n.unsigned_abs())
    };
    let tally = counts.tally(rows, [count(0)?, count(1)?, count(2)?]);
    Ok(BatchOutcome {
        inserted: tally.inserted,
        updated: tally.updated,
        skipped: tally.skipped,
    })
}

/// [`AtomicUpsert::upsert_many_outcomes`](crate::AtomicUpsert::upsert_many_outcomes) of
/// `batch` (built with [`Want::Outcomes`]).
pub(crate) fn upsert_many_outcomes<'c, 'q, A>(
    executor: A,
    batch: Batch<'q>,
    key: TableKey,
) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send + use<'c, 'q, A>
where
    A: Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    run_outcomes(executor, batch, key)
}

async fn run_outcomes<'c, A>(
    executor: A,
    batch: Batch<'_>,
    key: TableKey,
) -> Result<Vec<UpsertOutcome>, Error>
where
    A: Acquire<'c, Database = Postgres>,
    A::Connection: Acquired,
{
    let call = CallSpan::start(Op::UpsertManyOutcomes, &key, batch.rows, 1);
    if batch.rows == 0 {
        call.batch(&BatchOutcome::default());
        return Ok(Vec::new());
    }
    call.bulk_path(
        matches!(batch.source, Source::Copy { .. }),
        batch.presorted.is_some(),
    );
    let rows = batch.rows;
    traced(
        call,
        async move {
            let mut coded: Vec<(i64, i16)> = Vec::with_capacity(rows);
            for (_, answer) in send(executor, batch, key).await? {
                for row in &answer {
                    coded.push((
                        row.try_get(0).map_err(Error::Sqlx)?,
                        row.try_get(1).map_err(Error::Sqlx)?,
                    ));
                }
            }
            // Rounds answer their own rows: back in input order.
            coded.sort_unstable_by_key(|&(ord, _)| ord);
            let mut outcomes = Vec::with_capacity(rows);
            for (i, (ord, code)) in coded.into_iter().enumerate() {
                debug_assert_eq!(ord, staged_ord(None, i));
                outcomes.push(UpsertOutcome::from_code(code));
            }
            if outcomes.len() != rows {
                return Err(Error::Sqlx(sqlx::Error::Protocol(format!(
                    "expected {rows} outcomes, got {}",
                    outcomes.len()
                ))));
            }
            Ok(outcomes)
        },
        |call, outcomes| call.batch(&BatchOutcome::of(outcomes)),
    )
    .await
}

/// Sends `batch` and returns the statements' answer rows, with the number of batch rows
/// each answers: one statement (one row of counts, or one outcome row per batch row), or
/// one per round of distinct keys where the table watches every row ([`watches`]). Errors
/// are classified against `key`.
async fn send<'c, A>(
    executor: A,
    batch: Batch<'_>,
    key: TableKey,
) -> Result<Vec<(usize, Vec<PgRow>)>, Error>
where
    A: Acquire<'c, Database = Postgres>,
    A::Connection: Acquired,
{
    let Batch {
        rows,
        may_repeat,
        mixed_adds,
        watches: known,
        sent,
        unnest_sql,
        source,
        plan,
        stage_sql,
        presorted,
        returning_old,
    } = batch;
    let classify = |error| Error::classify(error, &key);
    // PostgreSQL 18's statements of a partitioned table, if this connection's server has it.
    let old_on = |conn: &sqlx::PgConnection| returning_old.filter(|_| returns_old(conn));
    let mut conn = Guarded::new(executor.acquire().await.map_err(classify)?);
    let in_rounds = may_repeat
        && (mixed_adds
            || match known {
                Some(known) => known,
                None => watches(&mut conn, &key).await?,
            });
    if in_rounds || matches!(source, Source::Copy { .. }) {
        let types = match source {
            Source::Copy { types } => types,
            Source::Unnest => sent.stage_types(),
        };
        let answer = async {
            let mut tx = sqlx::Connection::begin(&mut *conn)
                .await
                .map_err(classify)?;
            let stage_sql = old_on(&tx).map_or(stage_sql, |(_, stage)| stage);
            create_stage(&mut tx, &types, &plan, key).await?;
            // A lent connection stages by `INSERT`: a `COPY` dropped there while the
            // server acknowledges its end would leave the caller's connection out of step.
            let copy = A::Connection::OWNED;
            stage_rows(
                &mut tx,
                &*sent,
                rows,
                presorted.as_deref(),
                &plan,
                copy,
                key,
            )
            .await?;
            // The staged ordinals are the caller's: the row at fault needs no mapping.
            let parts = if in_rounds {
                apply_in_rounds(&mut tx, &plan, stage_sql, key).await?
            } else {
                vec![(rows, run_stage(&mut tx, stage_sql, key).await?)]
            };
            tx.commit().await.map_err(classify)?;
            Ok::<_, Error>(parts)
        }
        .await;
        let answer = match answer {
            // In rounds, a row fails with the rows of the rounds before it: a prefix of
            // the folded batch would not.
            Err(error) if !in_rounds && locatable(&error) => {
                let sql = old_on(&conn).map_or(unnest_sql, |(unnest, _)| unnest);
                Err(locate(&mut conn, &*sent, sql, rows, error, presorted.as_deref()).await)
            }
            answer => answer,
        };
        conn.finished();
        return answer;
    }
    // One statement: a drop leaves nothing sqlx does not finish reading.
    conn.finished();
    let sql = old_on(&conn).map_or(unnest_sql, |(unnest, _)| unnest);
    let query = sent.unnest(sql, rows, None);
    let answer = if sqlx::Connection::is_in_transaction(&*conn) {
        // Inside the caller's transaction, a failed batch rolls back to a savepoint, as on
        // the COPY path: the batch leaves nothing, and the transaction goes on.
        let mut savepoint = sqlx::Connection::begin(&mut *conn)
            .await
            .map_err(classify)?;
        match query.fetch_all(&mut *savepoint).await {
            Ok(counts) => {
                savepoint.commit().await.map_err(classify)?;
                Ok(counts)
            }
            Err(error) => {
                savepoint.rollback().await.map_err(classify)?;
                Err(classify(error))
            }
        }
    } else {
        query.fetch_all(&mut *conn).await.map_err(classify)
    };
    match answer {
        Err(error) if locatable(&error) => {
            Err(locate(&mut conn, &*sent, sql, rows, error, presorted.as_deref()).await)
        }
        Err(error) => {
            let ords = (0..rows).map(|index| staged_ord(presorted.as_deref(), index));
            Err(unencodable(&error, &*sent, 0, ords).unwrap_or(error))
        }
        Ok(answer) => Ok(vec![(rows, answer)]),
    }
}

/// Whether the table watches every row a batch writes, so that folding a key's rows into
/// one would hide them from it: a row trigger on insert or update, a CHECK constraint (the
/// table's or a column domain's). One catalog query, asked only of a batch whose keys may
/// repeat.
pub(crate) async fn watches(conn: &mut sqlx::PgConnection, key: &TableKey) -> Result<bool, Error> {
    const WATCHES: &str = "SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t \
             WHERE t.tgrelid = r.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D' \
             AND (t.tgtype::int4 & 1) = 1 AND (t.tgtype::int4 & 20) <> 0) \
         OR EXISTS (SELECT FROM pg_catalog.pg_constraint k \
             WHERE k.conrelid = r.oid AND k.contype = 'c') \
         OR EXISTS (SELECT FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_constraint d ON d.contypid = a.atttypid AND d.contype = 'c' \
             WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) \
         FROM (SELECT pg_catalog.to_regclass($1) AS oid) AS r";
    let table = upsert_core::Postgres.quote_table(&upsert_core::Table {
        schema: key.schema,
        name: key.table,
    });
    sqlx::query_scalar::<_, Option<bool>>(WATCHES)
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map(|watches| watches.unwrap_or(false))
        .map_err(|error| Error::classify(error, key))
}

/// Names the row at fault in `error`, a failed batch of `len` rows: the shortest prefix
/// of the caller's rows that fails the same way, found by bisection (statements over the
/// prefixes, each in a transaction rolled back), ends with it: the caller's first bad row,
/// however the batch was sorted to be sent. Only after a failure: a batch that
/// succeeds pays nothing. Rows fold as they do in the batch, so a row that fails only
/// with the rows before it (a running sum past a CHECK) is the one named. `error` as it
/// was when the rows cannot be sent again.
async fn locate(
    conn: &mut sqlx::PgConnection,
    sent: &(dyn SentRows + Send + Sync + '_),
    sql: &'static str,
    len: usize,
    error: Error,
    presorted: Option<&[usize]>,
) -> Error {
    let Some(code) = error.sqlstate().map(str::to_owned) else {
        return error;
    };
    let probe = Probe::Batch {
        sent,
        sql,
        presorted,
    };
    match shortest_failing(conn, len, &code, &probe).await {
        Some(fails) => Error::Row {
            index: fails - 1,
            source: Box::new(error),
        },
        None => error,
    }
}
