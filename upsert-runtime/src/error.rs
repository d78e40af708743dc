//! One error type for every call, typed by cause.

use std::fmt::{self, Write as _};
use upsert_core::Postgres;

/// Everything an upsert can fail with.
///
/// Database errors keep their SQLSTATE ([`Error::sqlstate`]) and the original
/// [`sqlx::Error`] as their [`source`](std::error::Error::source). The `Display` text says
/// what went wrong and, where there is one, how to fix it.
///
/// A failed call leaves the table as it was (the statement is atomic) and the pool usable.
///
/// ```
/// # async fn demo(pool: &atomic_upsert::sqlx::PgPool) {
/// use atomic_upsert::{AtomicUpsert, Error};
///
/// #[derive(AtomicUpsert)]
/// struct Tag {
///     #[conflict_key]
///     name: String,
///     color: String,
/// }
///
/// let tag = Tag { name: "rust".into(), color: "orange".into() };
/// match tag.upsert(pool).await {
///     Ok(outcome) => println!("{outcome:?}"),
///     Err(Error::NoMatchingUniqueIndex { fix, .. }) => eprintln!("schema problem; run: {fix}"),
///     Err(Error::UniqueViolation { constraint, .. }) => eprintln!("another key clashed: {constraint:?}"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The struct and its table disagree ([`AtomicUpsert::verify`](crate::AtomicUpsert::verify),
    /// [`verify_all`](crate::verify_all)): every mismatch, one line each, with its fix.
    #[error("{0}")]
    SchemaMismatch(crate::report::SchemaReport),

    /// PostgreSQL found no unique index or constraint matching the conflict target
    /// (SQLSTATE 42P10). The table lacks the unique index that `#[conflict_key]` promises.
    #[error(
        "no unique index on {table} matches the conflict key ({columns}): ON CONFLICT needs one; \
         create it with: {fix}",
        columns = .columns.join(", ")
    )]
    NoMatchingUniqueIndex {
        /// The table, as written in the statement (schema-qualified if a schema was given).
        table: String,
        /// The conflict-key columns, in order.
        columns: Vec<String>,
        /// A statement that creates the missing index.
        fix: String,
        /// The error PostgreSQL returned.
        source: Box<sqlx::Error>,
    },

    /// The unique constraint on the conflict key is `DEFERRABLE` (SQLSTATE 55000), which
    /// `ON CONFLICT` cannot use as its arbiter. Nothing was written;
    /// [`verify`](crate::AtomicUpsert::verify) prints the DDL that makes it `NOT DEFERRABLE`.
    #[error(
        "the unique constraint on {table}'s conflict key is DEFERRABLE, which ON CONFLICT cannot use as its arbiter: \
         recreate it NOT DEFERRABLE (`verify` prints the statement)"
    )]
    DeferrableArbiter {
        /// The table, as written in the statement.
        table: String,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// A unique constraint other than the conflict target was violated (SQLSTATE 23505):
    /// the row clashes with another row on a different unique column.
    #[error("{}", violation("unique constraint", constraint.as_deref(), table.as_deref(), detail.as_deref(), source))]
    UniqueViolation {
        /// The constraint's name, when PostgreSQL reported it.
        constraint: Option<String>,
        /// The table, when PostgreSQL reported it.
        table: Option<String>,
        /// PostgreSQL's detail line, for example `Key (email)=(a@b) already exists.`
        detail: Option<String>,
        /// The error PostgreSQL returned.
        source: Box<sqlx::Error>,
    },

    /// A CHECK constraint rejected the row (SQLSTATE 23514).
    #[error("{}", violation("check constraint", constraint.as_deref(), table.as_deref(), None, source))]
    CheckViolation {
        /// The constraint's name, when PostgreSQL reported it.
        constraint: Option<String>,
        /// The table, when PostgreSQL reported it.
        table: Option<String>,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// A NOT NULL column received NULL (SQLSTATE 23502).
    #[error("{}", violation("not-null constraint", column.as_deref(), table.as_deref(), None, source))]
    NotNullViolation {
        /// The column, when PostgreSQL reported it.
        column: Option<String>,
        /// The table, when PostgreSQL reported it.
        table: Option<String>,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// A foreign key has no matching row (SQLSTATE 23503).
    #[error("{}", violation("foreign key constraint", constraint.as_deref(), table.as_deref(), detail.as_deref(), source))]
    ForeignKeyViolation {
        /// The constraint's name, when PostgreSQL reported it.
        constraint: Option<String>,
        /// The table, when PostgreSQL reported it.
        table: Option<String>,
        /// PostgreSQL's detail line.
        detail: Option<String>,
        /// The error PostgreSQL returned.
        source: Box<sqlx::Error>,
    },

    /// PostgreSQL rejected a value (SQLSTATE class 22): a string holding a NUL byte
    /// (`\0`, which PostgreSQL text cannot store), a number out of range, bad JSON, ...
    #[error(
        "PostgreSQL rejected a value (SQLSTATE {code}): {message}{}",
        nul_hint(code)
    )]
    InvalidValue {
        /// The SQLSTATE, for example `22021` for a NUL byte.
        code: String,
        /// PostgreSQL's message.
        message: String,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// Any other error the server returned, with its SQLSTATE (on MySQL, a lock wait timeout
    /// carries its error number, `1205`, whose SQLSTATE says nothing). When the code is
    /// transient ([`Error::is_transient`]) the message says what to retry: the call, or the
    /// whole transaction when the call ran inside one. A single-row call's failure aborts
    /// that transaction; `upsert_many` rolls back to its own savepoint, but a serialization
    /// failure (40001) still needs the whole transaction again.
    #[error("database error {code}: {message}{}", retry_hint(code))]
    Database {
        /// The SQLSTATE (or MySQL's `1205`).
        code: String,
        /// The server's message.
        message: String,
        /// The error the server returned.
        source: sqlx::Error,
    },

    /// An error that did not come from the server: connecting, the pool, I/O, encoding a
    /// value on the client, or decoding the answer.
    #[error(transparent)]
    Sqlx(sqlx::Error),

    /// A row of a batch could not be encoded on the client; nothing was written.
    #[error("row {index} of the batch could not be encoded: {source}")]
    Encode {
        /// The row's position in the batch, from 0.
        index: usize,
        /// What the encoder said.
        source: sqlx::error::BoxDynError,
    },

    /// The write **was applied**, but the row it returned could not be read into the struct
    /// (`upsert_returning`: a column whose type or NULL the field cannot take) or into the
    /// read model (`upsert_returning_as`: also a column it lacks). Do not retry:
    /// [`verify`](crate::AtomicUpsert::verify) names the field to fix.
    #[error(
        "the row was written, but reading {} back failed (do not retry; `verify` names the field): {source}",
        column.as_ref().map_or_else(|| "it".to_owned(), |c| format!("column \"{c}\""))
    )]
    Unreadable {
        /// The column that could not be read, when the decoder named one.
        column: Option<String>,
        /// What the decoder said.
        source: sqlx::Error,
    },

    /// PostgreSQL refused a prepared statement whose result type changed since the
    /// connection prepared it (SQLSTATE 0A000, "cached plan must not change result type",
    /// after an `ALTER TABLE`). Nothing was applied. [`Retry`](crate::Retry) clears the
    /// connection's statement cache and runs it again; a plain call returns this error.
    /// sqlx 0.9.1 and later prepare the statement again themselves outside a transaction,
    /// so there only a call inside a transaction sees it.
    #[error(
        "a prepared statement went stale after a schema change; nothing was written, retry: {source}"
    )]
    StaleStatement {
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// The table is partitioned and the struct does not say `#[upsert(partitioned)]`: its
    /// statements tell an insert from an update by `xmax`, which PostgreSQL refuses in the
    /// `RETURNING` of a partitioned table (SQLSTATE 0A000, "cannot retrieve a system column
    /// in this context"). Nothing was written. [`verify`](crate::AtomicUpsert::verify)
    /// reports it before the first write.
    ///
    /// ```
    /// # fn demo(err: atomic_upsert::Error) {
    /// if let atomic_upsert::Error::PartitionedTable { table, .. } = &err {
    ///     eprintln!("add #[upsert(partitioned)] to the struct of {table}");
    /// }
    /// # }
    /// ```
    #[error(
        "{table} is a partitioned table: add #[upsert(partitioned)] to the struct (PostgreSQL refuses \
         the `xmax` that tells an insert from an update there); nothing was written"
    )]
    PartitionedTable {
        /// The table, quoted as in the statement.
        table: String,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// The update of a stored row would move it to another partition (a `BEFORE UPDATE`
    /// trigger changed its partition key), which PostgreSQL cannot do inside
    /// `ON CONFLICT DO UPDATE` (SQLSTATE 0A000, "invalid ON UPDATE specification").
    /// Nothing was written; the row stays where it was. Move it with a plain `UPDATE`
    /// (which PostgreSQL does as a delete and an insert), or keep the trigger off the
    /// partition key.
    ///
    /// ```
    /// # fn demo(err: atomic_upsert::Error) {
    /// if let atomic_upsert::Error::CrossPartitionUpdate { table, .. } = &err {
    ///     eprintln!("an upsert into {table} would move a row between partitions");
    /// }
    /// # }
    /// ```
    #[error(
        "the update would move a row of {table} to another partition, which ON CONFLICT DO UPDATE \
         cannot do (a trigger changed the partition key); nothing was written: {source}"
    )]
    CrossPartitionUpdate {
        /// The table, quoted as in the statement.
        table: String,
        /// The error PostgreSQL returned.
        source: sqlx::Error,
    },

    /// A [`Retry`](crate::Retry) timeout elapsed. With `applied: false` the server cancelled the
    /// statement (`statement_timeout`), so nothing was written; with `applied: true` the
    /// client stopped waiting and cannot know.
    #[error("timed out after {elapsed:?} ({})", if *.may_have_been_applied { "the write may have been applied" } else { "nothing was written" })]
    TimedOut {
        /// How long the call ran.
        elapsed: std::time::Duration,
        /// Whether the statement may have run.
        may_have_been_applied: bool,
    },

    /// `insert_or_get` (or, on SQLite, an `upsert` without a guard) saw the key inserted and
    /// deleted by others `attempts` times in a row and stopped rather than loop; nothing was
    /// written. Retrying is safe.
    #[error(
        "the key was inserted and deleted concurrently {attempts} times in a row; nothing was written"
    )]
    Contended {
        /// How many times it tried.
        attempts: u32,
    },

    /// SQLite's database stayed locked by another connection past the connection's busy
    /// timeout (`SQLITE_BUSY`, or `SQLITE_LOCKED`); nothing was written. Transient: retry the
    /// call, or inside a transaction the whole transaction. The timeout is
    /// `SqliteConnectOptions::busy_timeout` (sqlx's default: 5 s).
    #[error(
        "the SQLite database stayed locked by another connection (SQLite code {code}); nothing was written (transient: retry the call; inside a transaction, retry the whole transaction)"
    )]
    Busy {
        /// SQLite's extended result code, for example `5` (`SQLITE_BUSY`) or `517`
        /// (`SQLITE_BUSY_SNAPSHOT`: a transaction's snapshot went stale).
        code: String,
        /// The error SQLite returned.
        source: sqlx::Error,
    },

    /// A [`Writer`](crate::Writer) call whose batch failed as a whole: the connection broke,
    /// or a transient conflict (`source`) rejected the batch. Every call of that batch gets
    /// this error; [`is_transient`](Error::is_transient) and
    /// [`may_have_been_applied`](Error::may_have_been_applied) answer for `source`.
    #[error("the batch of {rows} coalesced calls holding this call failed: {source}")]
    Coalesced {
        /// How many calls the batch held.
        rows: usize,
        /// Why it failed, shared by the batch's calls.
        source: std::sync::Arc<Error>,
    },

    /// The stream of [`upsert_try_stream`](crate::AtomicUpsert::upsert_try_stream) gave an
    /// error at item `index` (from 0); the import stopped there and nothing was written.
    #[error("item {index} of the stream was an error: {source}; nothing was written")]
    Source {
        /// The item's position in the stream, from 0.
        index: usize,
        /// The stream's error.
        source: sqlx::error::BoxDynError,
    },

    /// The [`Writer`](crate::Writer) was shut down (or its task stopped); the call was not
    /// queued, and nothing was written.
    #[error("the writer was shut down; the row was not queued")]
    WriterClosed,

    /// The [`Writer`](crate::Writer)'s task stopped before it answered the call: it
    /// panicked (a panic in a field's `Encode` or `Serialize`, for one), or its runtime shut
    /// down. The row was queued, and its batch may have been applied; the writer takes no
    /// more calls ([`Error::WriterClosed`]).
    ///
    /// ```
    /// let err = atomic_upsert::Error::WriterFailed;
    /// assert!(err.may_have_been_applied() && !err.is_transient());
    /// ```
    #[error(
        "the writer's task stopped before answering (it panicked, or its runtime shut down); \
         the row may have been applied"
    )]
    WriterFailed,

    /// The server rejected a batch because of the row at `index`, the caller's first row
    /// at fault, as one by one would have failed there (every batch path names it, on
    /// every backend, found after the failure); nothing was written.
    #[error("row {index} of the batch was rejected: {source}")]
    Row {
        /// The row's position in the batch, from 0.
        index: usize,
        /// Why.
        source: Box<Error>,
    },
}

/// `Debug` reads as the report: the variant's name, then what `Display` says (every
/// mismatch of a [`SchemaMismatch`](Error::SchemaMismatch), one per line, with its fix),
/// since Rust prints the error a `main() -> Result<(), Error>` returns with `Debug`. The
/// alternate form (`{:#?}`) adds the chain of sources.
///
/// ```
/// let err = atomic_upsert::Error::WriterClosed;
/// assert_eq!(
///     format!("{err:?}"),
///     "WriterClosed: the writer was shut down; the row was not queued"
/// );
/// ```
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {self}", self.variant())?;
        if f.alternate() {
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                write!(f, "\n  caused by: {cause}")?;
                source = cause.source();
            }
        }
        Ok(())
    }
}

impl Error {
    /// Whether the server (or the encoder) rejected a row's data, so that applying a
    /// batch's rows one at a time finds the row at fault; any other failure (a missing
    /// table or column, no permission, a lock) would fail every row the same way.
    pub(crate) fn is_row_fault(&self) -> bool {
        matches!(
            self,
            Error::UniqueViolation { .. }
                | Error::CheckViolation { .. }
                | Error::NotNullViolation { .. }
                | Error::ForeignKeyViolation { .. }
                | Error::InvalidValue { .. }
                | Error::Encode { .. }
                | Error::Row { .. }
        ) || matches!(self.as_sqlx(), Some(sqlx::Error::Encode(_)))
    }

    /// The variant's name (for `Debug`, and a span's `error.type`).
    pub(crate) fn variant(&self) -> &'static str {
        match self {
            Error::SchemaMismatch(_) => "SchemaMismatch",
            Error::NoMatchingUniqueIndex { .. } => "NoMatchingUniqueIndex",
            Error::DeferrableArbiter { .. } => "DeferrableArbiter",
            Error::UniqueViolation { .. } => "UniqueViolation",
            Error::CheckViolation { .. } => "CheckViolation",
            Error::NotNullViolation { .. } => "NotNullViolation",
            Error::ForeignKeyViolation { .. } => "ForeignKeyViolation",
            Error::InvalidValue { .. } => "InvalidValue",
            Error::Database { .. } => "Database",
            Error::Sqlx(_) => "Sqlx",
            Error::Encode { .. } => "Encode",
            Error::Unreadable { .. } => "Unreadable",
            Error::StaleStatement { .. } => "StaleStatement",
            Error::PartitionedTable { .. } => "PartitionedTable",
            Error::CrossPartitionUpdate { .. } => "CrossPartitionUpdate",
            Error::TimedOut { .. } => "TimedOut",
            Error::Contended { .. } => "Contended",
            Error::Busy { .. } => "Busy",
            Error::Coalesced { .. } => "Coalesced",
            Error::Source { .. } => "Source",
            Error::WriterClosed => "WriterClosed",
            Error::WriterFailed => "WriterFailed",
            Error::Row { .. } => "Row",
        }
    }
}

fn violation(
    what: &str,
    name: Option<&str>,
    table: Option<&str>,
    detail: Option<&str>,
    source: &sqlx::Error,
) -> String {
    let mut text = format!("{what} violated");
    if let Some(name) = name {
        let _ = write!(text, ": {name}");
    }
    if let Some(table) = table {
        let _ = write!(text, " on table {table}");
    }
    match detail {
        Some(detail) => {
            let _ = write!(text, " ({detail})");
        }
        None => {
            if let sqlx::Error::Database(db) = source {
                let _ = write!(text, " ({})", db.message());
            }
        }
    }
    text
}

/// Whether a SQLSTATE is worth retrying as it is (see [`Error::is_transient`]).
fn transient_code(code: &str) -> bool {
    // SQLSTATEs; `1205` is MySQL's lock wait timeout, whose SQLSTATE (HY000) says nothing.
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "53300" | "1205"
    ) || code.starts_with("08")
}

fn retry_hint(code: &str) -> &'static str {
    if transient_code(code) {
        " (transient: retry the call; inside a transaction, retry the whole transaction)"
    } else {
        ""
    }
}

fn nul_hint(code: &str) -> &'static str {
    if code == "22021" {
        "; PostgreSQL text cannot hold NUL bytes (\\0): strip or replace them before upserting"
    } else {
        ""
    }
}

impl Error {
    /// [`Error::Unreadable`] for a row that could not be read into the struct, naming the
    /// column sqlx could not decode.
    pub(crate) fn unreadable<R: sqlx::Row>(row: &R, source: sqlx::Error) -> Self {
        let column = match &source {
            sqlx::Error::ColumnDecode { index, .. } => Some(
                index
                    .trim_matches('"')
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| row.columns().get(i))
                    .map_or_else(|| index.clone(), |c| sqlx::Column::name(c).to_owned()),
            ),
            // A read model asking for a column the row lacks.
            sqlx::Error::ColumnNotFound(name) => Some(name.clone()),
            _ => None,
        };
        Error::Unreadable { column, source }
    }

    /// Whether the failure is worth retrying as it is: a serialization failure (40001), a
    /// deadlock (40P01), a lock not available (55P03), a cancelled statement or a
    /// `statement_timeout` (57014), the server shutting down or restarting (57P01, 57P02,
    /// 57P03), too many connections (53300), a connection exception (class 08), a lost
    /// connection or a pool timeout, a stale prepared statement, a [`Retry`](crate::Retry)
    /// timeout, a contended `insert_or_get`. Permanent: constraint violations, bad values, a
    /// missing index, schema mismatches, encoding errors, an unreadable returned row.
    ///
    /// Inside a caller's transaction a transient error aborts the transaction: retry the
    /// whole transaction, not the call.
    ///
    /// ```
    /// use atomic_upsert::{Error, sqlx};
    /// assert!(Error::Sqlx(sqlx::Error::PoolTimedOut).is_transient());
    /// assert!(!Error::Sqlx(sqlx::Error::PoolClosed).is_transient());
    /// ```
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database { code, .. } => transient_code(code),
            Self::Sqlx(source) => matches!(
                source,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::WorkerCrashed
            ),
            Self::StaleStatement { .. }
            | Self::TimedOut { .. }
            | Self::Contended { .. }
            | Self::Busy { .. } => true,
            Self::Row { source, .. } => source.is_transient(),
            Self::Coalesced { source, .. } => source.is_transient(),
            Self::WriterClosed
            | Self::WriterFailed
            | Self::Source { .. }
            | Self::SchemaMismatch(_)
            | Self::NoMatchingUniqueIndex { .. }
            | Self::DeferrableArbiter { .. }
            | Self::UniqueViolation { .. }
            | Self::CheckViolation { .. }
            | Self::NotNullViolation { .. }
            | Self::ForeignKeyViolation { .. }
            | Self::InvalidValue { .. }
            | Self::PartitionedTable { .. }
            | Self::CrossPartitionUpdate { .. }
            | Self::Encode { .. }
            | Self::Unreadable { .. } => false,
        }
    }

    /// Whether the call may have been applied despite the error. `true` only when the
    /// outcome is unknown or known to be applied: the connection broke after the statement
    /// may have been sent (an I/O or protocol error), a client-side [`Retry`](crate::Retry)
    /// timeout, or [`Error::Unreadable`] (applied, then not readable). Every error the server
    /// reported for the statement means it was not applied (the statement is atomic), and so
    /// do errors raised before sending (pool, encoding, schema checks).
    ///
    /// A dropped future (a `tokio::time::timeout` around a call) gives no error at all and
    /// may well have been applied: use [`Retry::timeout`](crate::Retry::timeout), which
    /// cancels on the server.
    ///
    /// ```
    /// use atomic_upsert::{Error, sqlx};
    /// let lost = Error::Sqlx(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
    /// assert!(lost.is_transient() && lost.may_have_been_applied());
    /// assert!(!Error::Sqlx(sqlx::Error::PoolTimedOut).may_have_been_applied());
    /// ```
    #[must_use]
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            Self::Sqlx(source) => matches!(
                source,
                sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed
            ),
            Self::Unreadable { .. } | Self::WriterFailed => true,
            Self::TimedOut {
                may_have_been_applied,
                ..
            } => *may_have_been_applied,
            Self::Database { code, .. } => code.starts_with("08"),
            Self::Coalesced { source, .. } => source.may_have_been_applied(),
            _ => false,
        }
    }

    /// The SQLSTATE of a database error, for example `"23505"`; `None` for client-side errors.
    /// An [`Error::Database`] gives its code, on every backend (SQLite and MySQL answer a
    /// missing table or column with PostgreSQL's `42P01` and `42703`).
    ///
    /// ```
    /// let err = atomic_upsert::Error::Sqlx(atomic_upsert::sqlx::Error::PoolTimedOut);
    /// assert_eq!(err.sqlstate(), None);
    /// ```
    #[must_use]
    pub fn sqlstate(&self) -> Option<&str> {
        if let Self::Database { code, .. } = self {
            return Some(code);
        }
        match self.as_sqlx()? {
            sqlx::Error::Database(db) => db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .map(sqlx::postgres::PgDatabaseError::code),
            _ => None,
        }
    }

    /// The underlying [`sqlx::Error`], if the error came through sqlx.
    ///
    /// ```
    /// let err = atomic_upsert::Error::Sqlx(atomic_upsert::sqlx::Error::PoolClosed);
    /// assert!(matches!(err.as_sqlx(), Some(atomic_upsert::sqlx::Error::PoolClosed)));
    /// ```
    #[must_use]
    pub fn as_sqlx(&self) -> Option<&sqlx::Error> {
        match self {
            Self::NoMatchingUniqueIndex { source, .. }
            | Self::UniqueViolation { source, .. }
            | Self::ForeignKeyViolation { source, .. } => Some(source),
            Self::DeferrableArbiter { source, .. }
            | Self::CheckViolation { source, .. }
            | Self::NotNullViolation { source, .. }
            | Self::InvalidValue { source, .. }
            | Self::Database { source, .. }
            | Self::Sqlx(source)
            | Self::Unreadable { source, .. }
            | Self::StaleStatement { source }
            | Self::PartitionedTable { source, .. }
            | Self::CrossPartitionUpdate { source, .. }
            | Self::Busy { source, .. } => Some(source),
            Self::Row { source, .. } => source.as_sqlx(),
            Self::Coalesced { source, .. } => source.as_sqlx(),
            Self::Encode { .. }
            | Self::SchemaMismatch(_)
            | Self::TimedOut { .. }
            | Self::Contended { .. }
            | Self::WriterClosed
            | Self::WriterFailed
            | Self::Source { .. } => None,
        }
    }
}

/// The table and conflict columns a struct's statements write: what every backend reads of
/// a struct ([`Derived::KEY`](crate::backend::Derived::KEY)), and what errors name.
///
/// ```
/// use atomic_upsert::{AtomicUpsert, backend::Derived};
///
/// #[derive(AtomicUpsert)]
/// #[upsert(schema = "app")]
/// struct Setting { #[conflict_key] key: String, value: String }
///
/// let key = <Setting as Derived>::KEY;
/// assert_eq!((key.schema, key.table, key.columns), (Some("app"), "setting", &["key"][..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableKey {
    /// `#[upsert(schema = "..")]`, if any.
    pub schema: Option<&'static str>,
    /// The table, unquoted.
    pub table: &'static str,
    /// The conflict-key columns, in order.
    pub columns: &'static [&'static str],
}

impl TableKey {
    /// The table, as the core names one.
    pub(crate) fn table(&self) -> upsert_core::Table<'static> {
        upsert_core::Table {
            schema: self.schema,
            name: self.table,
        }
    }

    pub(crate) fn display_table(&self) -> String {
        match self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.to_owned(),
        }
    }

    /// The `CREATE UNIQUE INDEX` that gives the statement its arbiter (the index name cut
    /// to PostgreSQL's 63 bytes, so it runs for any table name).
    pub(crate) fn create_index_fix(&self) -> String {
        upsert_core::verify::create_unique_index(&Postgres, &self.table(), self.columns, None)
    }
}

#[cfg(test)]
mod tests {
    /// A user's `fn main() -> Result<(), Error>` (the README's quick start) must not trip
    /// clippy's default `result_large_err`, which fires at 128 bytes.
    #[test]
    fn error_stays_under_clippys_large_err_threshold() {
        assert!(
            size_of::<super::Error>() < 128,
            "{}",
            size_of::<super::Error>()
        );
    }
    use super::TableKey;

    #[test]
    fn fix_quotes_every_identifier() {
        let target = TableKey {
            schema: Some("app"),
            table: "my \"t\"",
            columns: &["a", "order"],
        };
        assert_eq!(
            target.create_index_fix(),
            r#"CREATE UNIQUE INDEX "my ""t""_a_order_key" ON "app"."my ""t""" ("a", "order");"#
        );
        let target = TableKey {
            schema: None,
            table: "strava_stats",
            columns: &["stats_type"],
        };
        assert_eq!(
            target.create_index_fix(),
            r#"CREATE UNIQUE INDEX "strava_stats_stats_type_key" ON "strava_stats" ("stats_type");"#
        );
    }
}
