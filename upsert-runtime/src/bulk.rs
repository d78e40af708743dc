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
use upsert_core::bulk::{drop_stage, stage_ddl};

use crate::cancel::{Acquired, Copying, Guarded};
use crate::error::{Error, TableKey};
use crate::execute::returns_old;
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::private::{BoxDynError, CopyBuffer, Generated, PgQuery, Plan};
use crate::telemetry::{Call, Op, traced};

/// Batches with more rows than this take the `COPY` path under [`BulkPath::Auto`].
pub const COPY_THRESHOLD: usize = 20_000;

/// Batches whose rows take more than about this many bytes in `COPY`'s binary format take
/// the `COPY` path under [`BulkPath::Auto`] even below [`COPY_THRESHOLD`] rows: wide rows
/// (a `jsonb` payload) gain from `COPY` sooner. 20,000 three-column rows are about this size;
/// for rows of a `text` key and 110 bytes of `jsonb` it is about 5,000 rows.
pub const COPY_THRESHOLD_BYTES: usize = 768 << 10;

/// The `COPY` path sends its rows in chunks of about this many bytes. Small enough that the
/// server parses a chunk while the client encodes the next (1 MiB chunks left the server
/// idle for most of a 10,000-row batch: see PERFORMANCE.md).
pub const COPY_CHUNK_BYTES: usize = 64 << 10;

/// Which way [`AtomicUpsert::upsert_many_via`](crate::AtomicUpsert::upsert_many_via) sends a batch. Both give the same result.
///
/// ```
/// use atomic_upsert::BulkPath;
/// assert_eq!(BulkPath::default(), BulkPath::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BulkPath {
    /// `Unnest` up to [`COPY_THRESHOLD`] rows and [`COPY_THRESHOLD_BYTES`], `Copy` above.
    #[default]
    Auto,
    /// One statement with one array parameter per column.
    Unnest,
    /// Binary `COPY` into a temporary table, then one `INSERT .. SELECT`.
    Copy,
}

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
    sent: Box<dyn SentRows + Send + Sync + 'q>,
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

/// The rows of a batch: one at a time for `COPY`, the first `len` bound as `UNNEST` arrays.
trait SentRows {
    /// Appends row `index`'s bound fields.
    fn copy_row(&self, index: usize, out: &mut CopyBuffer) -> Result<(), BoxDynError>;

    /// The staging table's column types.
    fn stage_types(&self) -> Vec<PgTypeInfo>;

    /// `sql` with the rows of the caller's first `below` bound, one array per column, in
    /// the order sent (`order`: each sent row's input index, for a presorted batch).
    fn unnest(&self, sql: &'static str, below: usize, order: Option<&[usize]>) -> PgQuery<'_>;
}

/// The rows in the order they are sent.
struct Rows<'q, T>(Vec<&'q T>);

impl<T: Generated> SentRows for Rows<'_, T> {
    fn stage_types(&self) -> Vec<PgTypeInfo> {
        T::stage_types()
    }

    fn copy_row(&self, index: usize, out: &mut CopyBuffer) -> Result<(), BoxDynError> {
        self.0[index].copy_row(out)
    }

    fn unnest(&self, sql: &'static str, below: usize, order: Option<&[usize]>) -> PgQuery<'_> {
        match order {
            None => T::bind_rows(&self.0[..below], sqlx::query(sql)),
            // A subsequence of a presorted batch is presorted too.
            Some(order) => {
                let rows: Vec<&T> = self
                    .0
                    .iter()
                    .zip(order)
                    .filter(|&(_, &input)| input < below)
                    .map(|(row, _)| *row)
                    .collect();
                T::bind_rows(&rows, sqlx::query(sql))
            }
        }
    }
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
        let plan = T::PLAN;
        // One sort tells both whether a key repeats and, for distinct keys, the presorted
        // order.
        let keyed = key_order(rows);
        let may_repeat = keyed
            .as_ref()
            .map_or(rows.len() > 1, |(_, repeats)| *repeats);
        // An `add` column with amounts of both signs: a running sum may overflow where the
        // key's total does not, which only rounds show as one by one would.
        let mixed_adds = crate::private::mixed_signs(
            rows.iter()
                .fold(0_u64, |signs, row| signs | row.add_signs()),
        );
        let (presorted, unnest_sql, stage_sql) = match (want, keyed, plan.presorted) {
            (Want::Counts, Some((order, false)), Some(sql)) => (Some(order), sql.unnest, sql.stage),
            (Want::Counts, ..) => (None, unnest_sql, plan.stage_upsert_sql),
            (Want::Outcomes, ..) => (None, unnest_sql, plan.stage_outcomes_sql),
        };
        let returning_old = plan.returning_old.map(|old| match (want, &presorted) {
            (Want::Counts, Some(_)) => old
                .presorted
                .map_or((old.upsert_many, old.stage_upsert), |p| (p.unnest, p.stage)),
            (Want::Counts, None) => (old.upsert_many, old.stage_upsert),
            (Want::Outcomes, _) => (old.outcomes, old.stage_outcomes),
        });
        let sent: Vec<&T> = match &presorted {
            Some(order) => order.iter().map(|&index| &rows[index]).collect(),
            None => rows.iter().collect(),
        };
        let source = if rows.is_empty() || !use_copy {
            Source::Unnest
        } else {
            Source::Copy {
                types: T::stage_types(),
            }
        };
        Batch {
            rows: rows.len(),
            may_repeat,
            mixed_adds,
            watches: None,
            sent: Box::new(Rows(sent)),
            unnest_sql,
            source,
            plan,
            stage_sql,
            presorted,
            returning_old,
        }
    }
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
    let cmp = |a: &T, b: &T| T::key_cmp(a, b).unwrap_or(Ordering::Equal);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    if !rows.windows(2).all(|pair| cmp(&pair[0], &pair[1]).is_lt()) {
        // Stable: equal keys keep their input order (they send the batch to the fold).
        order.sort_by(|&a, &b| cmp(&rows[a], &rows[b]));
    }
    let nulls_apart = !T::PLAN.nulls_not_distinct;
    let repeats = order.windows(2).any(|pair| {
        let (a, b) = (&rows[pair[0]], &rows[pair[1]]);
        cmp(a, b).is_eq() && !(nulls_apart && a.key_is_null())
    });
    Some((order, repeats))
}

/// `error` with the index of the row at fault in the caller's batch, for a `COPY` error
/// (an encoding failure, or the line the server names) of a batch sent in another order.
fn in_input_order(error: Error, presorted: Option<&[usize]>) -> Error {
    let input = |index: usize| {
        presorted
            .and_then(|order| order.get(index).copied())
            .unwrap_or(index)
    };
    match error {
        Error::Row { index, source } => Error::Row {
            index: input(index),
            source,
        },
        Error::Encode { index, source } => Error::Encode {
            index: input(index),
            source,
        },
        other => other,
    }
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
    for row in rows.iter().step_by(step).take(SAMPLES) {
        let _ = row.copy_row(&mut buffer);
        sampled += 1;
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
    let call = Call::start(Op::UpsertMany, &key, batch.rows, attempt);
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
        Call::batch,
    )
    .await
}

/// The [`BatchOutcome`] of a bulk statement's answer (one row laid out as `counts` says)
/// for a batch of `rows` rows.
/// The counts of a batch sent in parts (one statement, or one per round), added up.
pub(crate) fn parts_outcome(
    parts: &[(usize, Vec<PgRow>)],
    counts: upsert_core::bulk::Counts,
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
    counts: upsert_core::bulk::Counts,
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
    let call = Call::start(Op::UpsertManyOutcomes, &key, batch.rows, 1);
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
                debug_assert_eq!(ord, i64::try_from(i).unwrap_or(i64::MAX) + 1);
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
            copy_rows(&mut tx, &*sent, rows, presorted.as_deref(), &plan, key).await?;
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
        answer => Ok(vec![(rows, answer?)]),
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

/// Applies the staged batch in rounds of distinct keys (round `r`: each key's `r`th row),
/// each round the struct's own statement over the staging table's name, a view of that
/// round only, after the rounds before it: every row meets the table's CHECK constraints
/// and row triggers as it would alone, in order. Each round's answer, with its row count.
pub(crate) async fn apply_in_rounds(
    tx: &mut sqlx::PgConnection,
    plan: &Plan,
    stage_sql: &'static str,
    key: TableKey,
) -> Result<Vec<(usize, Vec<PgRow>)>, Error> {
    let classify = |error| Error::classify(error, &key);
    let statements = upsert_core::bulk::RoundStatements::of(&upsert_core::Postgres);
    for sql in [plan.rounds_sql, &statements.keep, &statements.view] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    let sizes: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(statements.sizes.as_str()))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
    let mut parts = Vec::with_capacity(sizes.len());
    for (round, rows) in sizes {
        sqlx::query(sqlx::AssertSqlSafe(statements.select.as_str()))
            .bind(round.to_string())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let mut attempt = sqlx::Connection::begin(&mut *tx).await.map_err(classify)?;
        let answer = match sqlx::query(stage_sql).fetch_all(&mut *attempt).await {
            Ok(answer) => {
                attempt.commit().await.map_err(classify)?;
                answer
            }
            Err(error) => {
                attempt.rollback().await.map_err(classify)?;
                let error = classify(error);
                if !locatable(&error) {
                    return Err(error);
                }
                return Err(locate_in_round(tx, &statements, stage_sql, round, error).await);
            }
        };
        parts.push((usize::try_from(rows).unwrap_or(0), answer));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(statements.drop))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(parts)
}

/// Names the row at fault in round `round`, which failed with `error` after the rounds
/// before it: the round's rows are distinct keys, so the shortest prefix of them (in the
/// caller's order) that fails the same way ends with it. Statements over the prefixes
/// (the round's view limited by [`RoundStatements::until`]), each in a transaction level
/// rolled back. `error` as it was when the rows cannot be sent again.
///
/// [`RoundStatements::until`]: upsert_core::bulk::RoundStatements::until
async fn locate_in_round(
    tx: &mut sqlx::PgConnection,
    statements: &upsert_core::bulk::RoundStatements,
    stage_sql: &'static str,
    round: i64,
    error: Error,
) -> Error {
    let Some(code) = error.sqlstate().map(str::to_owned) else {
        return error;
    };
    let Ok(ords) = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(statements.ords.as_str()))
        .bind(round)
        .fetch_all(&mut *tx)
        .await
    else {
        return error;
    };
    let (mut passes, mut fails) = (0, ords.len());
    while fails - passes > 1 {
        let mid = passes + (fails - passes) / 2;
        let Ok(mut probe) = sqlx::Connection::begin(&mut *tx).await else {
            return error;
        };
        let limited = sqlx::query(sqlx::AssertSqlSafe(statements.until.as_str()))
            .bind(ords[mid - 1].to_string())
            .execute(&mut *probe)
            .await;
        let failed = limited.is_ok()
            && match sqlx::query(stage_sql).fetch_all(&mut *probe).await {
                Ok(_) => false,
                Err(probed) => probed
                    .as_database_error()
                    .is_some_and(|db| db.code().as_deref() == Some(code.as_str())),
            };
        if limited.is_err() || probe.rollback().await.is_err() {
            return error;
        }
        if failed {
            fails = mid;
        } else {
            passes = mid;
        }
    }
    match ords
        .get(fails.wrapping_sub(1))
        .and_then(|ord| usize::try_from(*ord - 1).ok())
    {
        Some(index) => Error::Row {
            index,
            source: Box::new(error),
        },
        None => error,
    }
}

/// Whether a failed batch's error can be caused by a row, and the row is not named yet: a
/// data exception (22xxx: a value too long, out of range, invalid), an integrity violation
/// (23xxx: CHECK, NOT NULL, a foreign key, another unique index), or an exception a trigger
/// raised (P0xxx).
fn locatable(error: &Error) -> bool {
    !matches!(error, Error::Row { .. } | Error::Encode { .. })
        && error.sqlstate().is_some_and(|code| {
            ["22", "23", "P0"]
                .iter()
                .any(|class| code.starts_with(class))
        })
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
    // The prefix of `passes` rows succeeds, the prefix of `fails` rows fails.
    let (mut passes, mut fails) = (0, len);
    while fails - passes > 1 {
        let mid = passes + (fails - passes) / 2;
        let Ok(mut probe) = sqlx::Connection::begin(&mut *conn).await else {
            return error;
        };
        let failed = match sent
            .unnest(sql, mid, presorted)
            .fetch_all(&mut *probe)
            .await
        {
            Ok(_) => false,
            Err(probed) => probed
                .as_database_error()
                .is_some_and(|db| db.code().as_deref() == Some(code.as_str())),
        };
        if probe.rollback().await.is_err() {
            return error;
        }
        if failed {
            fails = mid;
        } else {
            passes = mid;
        }
    }
    Error::Row {
        index: fails - 1,
        source: Box::new(error),
    }
}

/// Creates the temporary staging table of `plan`'s bound columns, typed `types`.
pub(crate) async fn create_stage(
    tx: &mut sqlx::PgConnection,
    types: &[PgTypeInfo],
    plan: &Plan,
    key: TableKey,
) -> Result<(), Error> {
    let types: Vec<String> = types.iter().map(stage_type).collect();
    let ddl = stage_ddl(
        &upsert_core::Postgres,
        plan.stage_columns
            .iter()
            .copied()
            .zip(types.iter().map(String::as_str)),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&mut *tx)
        .await
        .map_err(|error| Error::classify(error, &key))?;
    Ok(())
}

/// Runs `stage_sql` over the loaded staging table ([`stage_statement`]), then drops it.
pub(crate) async fn run_stage(
    tx: &mut sqlx::PgConnection,
    stage_sql: &'static str,
    key: TableKey,
) -> Result<Vec<PgRow>, Error> {
    let answer = stage_statement(tx, stage_sql, key).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_stage(&upsert_core::Postgres)))
        .execute(&mut *tx)
        .await
        .map_err(|error| Error::classify(error, &key))?;
    Ok(answer)
}

/// Runs `stage_sql` over the stage in a savepoint, which keeps the staged rows readable
/// after a failure, to find the row at fault.
async fn stage_statement(
    tx: &mut sqlx::PgConnection,
    stage_sql: &'static str,
    key: TableKey,
) -> Result<Vec<PgRow>, Error> {
    let classify = |error| Error::classify(error, &key);
    let mut attempt = sqlx::Connection::begin(&mut *tx).await.map_err(classify)?;
    match sqlx::query(stage_sql).fetch_all(&mut *attempt).await {
        Ok(answer) => {
            attempt.commit().await.map_err(classify)?;
            Ok(answer)
        }
        Err(error) => {
            attempt.rollback().await.map_err(classify)?;
            let row = failing_row(tx, &error, &key).await;
            let error = classify(error);
            Err(match row {
                Some(index) => Error::Row {
                    index,
                    source: Box::new(error),
                },
                None => error,
            })
        }
    }
}

/// Sends the rows by `COPY`, row `index` of `rows` staged with the ordinal of its input
/// row: `input[index]` for a presorted batch, else `index` (so the first row at fault is
/// the caller's first). An error names the caller's row.
async fn copy_rows(
    conn: &mut sqlx::PgConnection,
    rows: &(dyn SentRows + Send + Sync + '_),
    len: usize,
    input: Option<&[usize]>,
    plan: &Plan,
    key: TableKey,
) -> Result<(), Error> {
    let classify = |error| Error::classify(error, &key);
    let sent = async {
        let mut copy = Copying::new(
            conn.copy_in_raw(plan.stage_copy_sql)
                .await
                .map_err(classify)?,
        );
        let mut buffer = CopyBuffer::new();
        let fields = plan.stage_columns.len() + 1;
        for index in 0..len {
            buffer.start_row(fields);
            if let Err(source) = rows.copy_row(index, &mut buffer) {
                let _ = copy.abort("a row could not be encoded").await;
                return Err(Error::Encode { index, source });
            }
            let ord = input.map_or(index, |input| input[index]);
            buffer.ordinal(i64::try_from(ord).unwrap_or(i64::MAX) + 1);
            if buffer.len() >= COPY_CHUNK_BYTES {
                copy.send(buffer.take()).await.map_err(classify)?;
            }
        }
        buffer.finish();
        copy.send(buffer.take()).await.map_err(classify)?;
        copy.finish().await.map_err(|error| copy_error(error, &key))
    };
    sent.await
        .map(drop)
        .map_err(|error| in_input_order(error, input))
}

/// The first staged row that breaks, on its own, the CHECK or NOT NULL constraint that
/// `error` names: a diagnostic query on the staging table after the write failed. `None`
/// when no single row is at fault (a folded value broke it) or the check reads columns the
/// stage does not have.
async fn failing_row(
    conn: &mut sqlx::PgConnection,
    error: &sqlx::Error,
    key: &TableKey,
) -> Option<usize> {
    let pg = error
        .as_database_error()?
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let q = |name: &str| upsert_core::Postgres.quote_ident(name);
    let violated = match pg.code() {
        "23514" => {
            let table = upsert_core::Postgres.quote_table(&upsert_core::Table {
                schema: key.schema,
                name: key.table,
            });
            let definition: String = sqlx::query_scalar(
                "SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint \
                 WHERE conname = $1 AND conrelid = pg_catalog.to_regclass($2)",
            )
            .bind(pg.constraint()?)
            .bind(table)
            .fetch_optional(&mut *conn)
            .await
            .ok()??;
            format!("NOT {}", definition.strip_prefix("CHECK ")?)
        }
        "23502" => format!("{} IS NULL", q(pg.column()?)),
        _ => return None,
    };
    let sql = format!(
        "SELECT {ord} FROM {stage} WHERE {violated} ORDER BY {ord} LIMIT 1",
        ord = q(upsert_core::names::ORD_COLUMN),
        stage = q(upsert_core::names::STAGE_TABLE),
    );
    let mut probe = sqlx::Connection::begin(&mut *conn).await.ok()?;
    let ord: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_optional(&mut *probe)
        .await
        .ok()
        .flatten();
    let _ = probe.rollback().await;
    usize::try_from(ord?.checked_sub(1)?).ok()
}

/// A type as the staging table's DDL writes it: a built-in type by its name, any other
/// (an enum, a domain, a schema-qualified or mixed-case name) quoted part by part.
fn stage_type(info: &PgTypeInfo) -> String {
    let name = sqlx::TypeInfo::name(info);
    if info.oid().is_some() {
        return name.to_owned();
    }
    let (base, array) = name
        .strip_suffix("[]")
        .map_or((name, ""), |base| (base, "[]"));
    let parts: Vec<String> = base
        .split('.')
        .map(|p| upsert_core::Postgres.quote_ident(p))
        .collect();
    format!("{}{array}", parts.join("."))
}

/// Classifies a COPY error and, for a value PostgreSQL rejected while loading (a data
/// exception, class 22, whose context names the line: `COPY .., line N, ..`), the batch row
/// it came from. A cancel, a timeout or a lost connection names a line too, but no row is at
/// fault.
pub(crate) fn copy_error(error: sqlx::Error, target: &TableKey) -> Error {
    let line = match &error {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .filter(|pg| pg.code().starts_with("22"))
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

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgTypeInfo;

    use super::stage_type;

    #[test]
    fn staging_types_quote_what_is_not_built_in() {
        assert_eq!(
            stage_type(&<i64 as sqlx::Type<sqlx::Postgres>>::type_info()),
            "INT8"
        );
        assert_eq!(stage_type(&PgTypeInfo::with_name("Mood")), r#""Mood""#);
        assert_eq!(
            stage_type(&PgTypeInfo::with_name("app.mood")),
            r#""app"."mood""#
        );
        assert_eq!(stage_type(&PgTypeInfo::array_of("Mood")), r#""Mood"[]"#);
    }
}
