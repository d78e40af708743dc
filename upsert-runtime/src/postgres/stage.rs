//! The staging table of the `COPY` path and of batches applied in rounds: created, loaded
//! (binary `COPY` on a connection the call owns; `INSERT .. UNNEST` statements on one a
//! caller lends, whose `COPY` a dropped call could leave out of step), applied whole or in
//! rounds of distinct keys, and asked which row a failure came from.

use std::ops::Range;

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgConnection, PgRow, PgTypeInfo};
use upsert_core::Dialect as _;
use upsert_core::postgres::stage::{RoundStatements, drop_stage, stage_ddl};

use crate::error::{Error, TableKey};
use crate::postgres::cancel::Copying;
use crate::postgres::generated::{CopyBuffer, Generated, PgQuery, Plan};

/// The `COPY` path sends its rows in chunks of about this many bytes. Small enough that the
/// server parses a chunk while the client encodes the next (1 MiB chunks left the server
/// idle for most of a 10,000-row batch: see PERFORMANCE.md).
pub const COPY_CHUNK_BYTES: usize = 64 << 10;

/// The rows of a batch: one at a time for `COPY`, the first `len` bound as `UNNEST` arrays.
pub(crate) trait SentRows {
    /// Appends row `index`'s bound fields.
    fn copy_row(&self, index: usize, out: &mut CopyBuffer) -> Result<(), BoxDynError>;

    /// The staging table's column types.
    fn stage_types(&self) -> Vec<PgTypeInfo>;

    /// `sql` with the rows of the caller's first `below` bound, one array per column, in
    /// the order sent (`order`: each sent row's input index, for a presorted batch).
    fn unnest(&self, sql: &'static str, below: usize, order: Option<&[usize]>) -> PgQuery<'_>;

    /// `sql`, the staging insert (`Plan::sql.stage_insert_sql`), with sent rows `range` bound
    /// as the `UNNEST` statement binds them, then `ords`, their ordinals.
    fn stage(&self, sql: &'static str, range: Range<usize>, ords: &[i64]) -> PgQuery<'_>;
}

/// The rows in the order they are sent.
pub(crate) struct Rows<'q, T>(pub(crate) Vec<&'q T>);

impl<T: Generated> SentRows for Rows<'_, T> {
    fn stage_types(&self) -> Vec<PgTypeInfo> {
        T::stage_types()
    }

    fn copy_row(&self, index: usize, out: &mut CopyBuffer) -> Result<(), BoxDynError> {
        self.0[index].copy_row(out)
    }

    fn stage(&self, sql: &'static str, range: Range<usize>, ords: &[i64]) -> PgQuery<'_> {
        T::bind_rows(&self.0[range], sqlx::query(sql)).bind(ords.to_vec())
    }

    fn unnest(&self, sql: &'static str, below: usize, order: Option<&[usize]>) -> PgQuery<'_> {
        match order {
            None => T::bind_rows(&self.0[..below], sqlx::query(sql)),
            // A subsequence of a presorted batch is presorted too.
            Some(order) => {
                let mut rows: Vec<&T> = Vec::with_capacity(below);
                for (index, &input) in order.iter().enumerate() {
                    if input < below {
                        rows.push(self.0[index]);
                    }
                }
                T::bind_rows(&rows, sqlx::query(sql))
            }
        }
    }
}

/// Applies the staged batch in rounds of distinct keys (round `r`: each key's `r`th row),
/// each round the struct's own statement over the staging table's name, a view of that
/// round only, after the rounds before it: every row meets the table's CHECK constraints
/// and row triggers as it would alone, in order. Each round's answer, with its row count.
pub(crate) async fn apply_in_rounds(
    tx: &mut PgConnection,
    plan: &Plan,
    stage_sql: &'static str,
    key: TableKey,
) -> Result<Vec<(usize, Vec<PgRow>)>, Error> {
    let classify = |error| Error::classify(error, &key);
    let statements = RoundStatements::of(&upsert_core::Postgres);
    for sql in [plan.sql.rounds_sql, &statements.keep, &statements.view] {
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
/// [`RoundStatements::until`]: upsert_core::postgres::stage::RoundStatements::until
async fn locate_in_round(
    tx: &mut PgConnection,
    statements: &RoundStatements,
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
    let probe = Probe::Round {
        statements,
        stage_sql,
        ords: &ords,
    };
    match shortest_failing(tx, ords.len(), &code, &probe).await {
        Some(fails) => named(error, ords[fails - 1]),
        None => error,
    }
}

/// `error` as caused by the row staged with ordinal `ord` (its input index plus one).
fn named(error: Error, ord: i64) -> Error {
    match usize::try_from(ord - 1) {
        Ok(index) => Error::Row {
            index,
            source: Box::new(error),
        },
        Err(_) => error,
    }
}

/// What a bisection sends for a prefix of `n` rows, each probe in a transaction level
/// rolled back after it.
pub(crate) enum Probe<'a> {
    /// The batch's `UNNEST` statement over its first `n` input rows (folded as the batch
    /// folds them).
    Batch {
        sent: &'a (dyn SentRows + Send + Sync + 'a),
        sql: &'static str,
        presorted: Option<&'a [usize]>,
    },
    /// The struct's statement over the first `n` rows of a round of distinct keys, after
    /// the rounds before it.
    Round {
        statements: &'a RoundStatements,
        stage_sql: &'static str,
        ords: &'a [i64],
    },
    /// The staging insert of the first `n` rows of a chunk.
    Stage {
        sent: &'a (dyn SentRows + Send + Sync + 'a),
        sql: &'static str,
        start: usize,
        ords: &'a [i64],
    },
}

impl Probe<'_> {
    /// Whether the prefix of `n` rows fails with `code`; `None` when it cannot be told.
    async fn fails(&self, conn: &mut PgConnection, n: usize, code: &str) -> Option<bool> {
        let sent = match self {
            Probe::Batch {
                sent,
                sql,
                presorted,
            } => sent
                .unnest(sql, n, *presorted)
                .fetch_all(&mut *conn)
                .await
                .map(drop),
            Probe::Round {
                statements,
                stage_sql,
                ords,
            } => {
                sqlx::query(sqlx::AssertSqlSafe(statements.until.as_str()))
                    .bind(ords[n - 1].to_string())
                    .execute(&mut *conn)
                    .await
                    .ok()?;
                sqlx::query(*stage_sql)
                    .fetch_all(&mut *conn)
                    .await
                    .map(drop)
            }
            Probe::Stage {
                sent,
                sql,
                start,
                ords,
            } => sent
                .stage(sql, *start..*start + n, &ords[..n])
                .execute(&mut *conn)
                .await
                .map(drop),
        };
        Some(match sent {
            Ok(()) => false,
            Err(error) => error
                .as_database_error()
                .is_some_and(|db| db.code().as_deref() == Some(code)),
        })
    }
}

/// The length of the shortest prefix of `len` rows that fails with `code` (the whole
/// `len` rows do), found by bisection: it ends with the first row at fault. `None` when a
/// probe cannot run.
pub(crate) async fn shortest_failing(
    conn: &mut PgConnection,
    len: usize,
    code: &str,
    probe: &Probe<'_>,
) -> Option<usize> {
    // The prefix of `passes` rows succeeds, the prefix of `fails` rows fails.
    let (mut passes, mut fails) = (0, len);
    while fails - passes > 1 {
        let mid = passes + (fails - passes) / 2;
        let mut level = sqlx::Connection::begin(&mut *conn).await.ok()?;
        let failed = probe.fails(&mut level, mid, code).await;
        level.rollback().await.ok()?;
        if failed? {
            fails = mid;
        } else {
            passes = mid;
        }
    }
    (fails > 0).then_some(fails)
}

/// Whether a failed batch's error can be caused by a row, and the row is not named yet: a
/// data exception (22xxx: a value too long, out of range, invalid), an integrity violation
/// (23xxx: CHECK, NOT NULL, a foreign key, another unique index), or an exception a trigger
/// raised (P0xxx).
pub(crate) fn locatable(error: &Error) -> bool {
    !matches!(error, Error::Row { .. } | Error::Encode { .. })
        && error.sqlstate().is_some_and(|code| {
            ["22", "23", "P0"]
                .iter()
                .any(|class| code.starts_with(class))
        })
}

/// Creates the temporary staging table of `plan`'s bound columns, typed `types`.
pub(crate) async fn create_stage(
    tx: &mut PgConnection,
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
    tx: &mut PgConnection,
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
    tx: &mut PgConnection,
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

/// Rows a connection the caller lends stages per `INSERT .. UNNEST` statement.
pub(crate) const STAGE_INSERT_ROWS: usize = 8_192;

/// Stages the `len` rows of `rows`, row `index` with the ordinal of its input row:
/// `input[index]` for a presorted batch, else `index` (so the first row at fault is the
/// caller's first). By `COPY` when `copy` (a connection the call owns, which it closes if
/// dropped mid-`COPY`), else by `INSERT .. UNNEST` statements of [`STAGE_INSERT_ROWS`] rows,
/// which sqlx keeps in step whenever a call is dropped. An error names the caller's row.
pub(crate) async fn stage_rows(
    conn: &mut PgConnection,
    rows: &(dyn SentRows + Send + Sync + '_),
    len: usize,
    input: Option<&[usize]>,
    plan: &Plan,
    copy: bool,
    key: TableKey,
) -> Result<(), Error> {
    let ord = |index: usize| staged_ord(input, index);
    if !copy {
        let sql = plan.sql.stage_insert_sql;
        let mut start = 0;
        while start < len {
            let end = len.min(start + STAGE_INSERT_ROWS);
            let ords: Vec<i64> = (start..end).map(ord).collect();
            insert_chunk(conn, rows, sql, start, &ords, key).await?;
            start = end;
        }
        return Ok(());
    }
    let classify = |error| Error::classify(error, &key);
    let mut copy = Copying::new(
        conn.copy_in_raw(plan.sql.stage_copy_sql)
            .await
            .map_err(classify)?,
    );
    let mut buffer = CopyBuffer::new();
    let fields = plan.stage_columns.len() + 1;
    for index in 0..len {
        buffer.start_row(fields);
        if let Err(source) = rows.copy_row(index, &mut buffer) {
            let _ = copy.abort("a row could not be encoded").await;
            return Err(named_encode(source, ord(index)));
        }
        buffer.ordinal(ord(index));
        if buffer.len() >= COPY_CHUNK_BYTES {
            copy.send(buffer.take()).await.map_err(classify)?;
        }
    }
    buffer.finish();
    copy.send(buffer.take()).await.map_err(classify)?;
    copy.finish()
        .await
        .map(drop)
        .map_err(|error| match copy_error(error, &key) {
            Error::Row { index, source } if index < len => named(*source, ord(index)),
            error => error,
        })
}

/// For a statement that failed with `error` because a value could not be encoded (sqlx
/// reports the parameter, not the row): [`Error::Encode`] of the caller's first row among
/// sent rows `start..`, whose ordinals are `ords`, that cannot be encoded, found by encoding
/// each. Only after such a failure.
pub(crate) fn unencodable(
    error: &Error,
    sent: &(dyn SentRows + Send + Sync + '_),
    start: usize,
    ords: impl Iterator<Item = i64>,
) -> Option<Error> {
    if !matches!(error.as_sqlx(), Some(sqlx::Error::Encode(_))) {
        return None;
    }
    let mut scratch = CopyBuffer::new();
    let mut first: Option<(i64, BoxDynError)> = None;
    for (offset, ord) in ords.enumerate() {
        if first.as_ref().is_some_and(|(named, _)| *named < ord) {
            continue;
        }
        if let Err(source) = sent.copy_row(start + offset, &mut scratch) {
            first = Some((ord, source));
        }
    }
    first.map(|(ord, source)| named_encode(source, ord))
}

/// The staging ordinal of sent row `index`: its input index plus one (`input[index]` for a
/// presorted batch), the inverse of [`named`].
pub(crate) fn staged_ord(input: Option<&[usize]>, index: usize) -> i64 {
    let input = input.map_or(index, |input| input[index]);
    i64::try_from(input).map_or(i64::MAX, |ord| ord.saturating_add(1))
}

/// [`Error::Encode`] of the row staged with ordinal `ord`.
fn named_encode(source: BoxDynError, ord: i64) -> Error {
    Error::Encode {
        index: usize::try_from(ord - 1).unwrap_or(0),
        source,
    }
}

/// Stages sent rows `start..start + ords.len()` (ordinals `ords`) with one `INSERT ..
/// UNNEST` statement `sql` ([`stage_insert`]) in a savepoint. A failure names its row: a
/// row that cannot be encoded by encoding each, a row the server rejects (a data
/// exception, a domain's CHECK) by bisection over the chunk's prefixes.
pub(crate) async fn insert_chunk(
    conn: &mut PgConnection,
    sent: &(dyn SentRows + Send + Sync + '_),
    sql: &'static str,
    start: usize,
    ords: &[i64],
    key: TableKey,
) -> Result<(), Error> {
    let classify = |error| Error::classify(error, &key);
    let mut attempt = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(classify)?;
    let Err(failed) = sent
        .stage(sql, start..start + ords.len(), ords)
        .execute(&mut *attempt)
        .await
    else {
        return attempt.commit().await.map_err(classify);
    };
    attempt.rollback().await.map_err(classify)?;
    let error = classify(failed);
    if let Some(unencodable) = unencodable(&error, sent, start, ords.iter().copied()) {
        return Err(unencodable);
    }
    let Some(code) = error
        .sqlstate()
        .filter(|_| locatable(&error))
        .map(str::to_owned)
    else {
        return Err(error);
    };
    let probe = Probe::Stage {
        sent,
        sql,
        start,
        ords,
    };
    Err(
        match shortest_failing(conn, ords.len(), &code, &probe).await {
            Some(fails) => named(error, ords[fails - 1]),
            None => error,
        },
    )
}

/// The first staged row that breaks, on its own, the CHECK or NOT NULL constraint that
/// `error` names: a diagnostic query on the staging table after the write failed. `None`
/// when no single row is at fault (a folded value broke it) or the check reads columns the
/// stage does not have.
async fn failing_row(
    conn: &mut PgConnection,
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
