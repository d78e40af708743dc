//! What the derive generates for SQLite. The impls are generic over a database `DB:
//! SqliteDb` (only `sqlx::Sqlite` is one, with the `sqlite` feature), so the derive emits
//! them whether or not the feature is on: with it off they are never used, and a field
//! type that SQLite cannot take fails only a call made on SQLite, not the struct.

use sqlx::{ColumnIndex, Database, Row as _};

use upsert_core::Unwritten;
use upsert_core::sqlite::types::Affinity;

use crate::dispatch::Derived;

/// The query type the generated SQLite binds fill.
pub type SqliteQuery<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// A database the derive's SQLite impls are for: `sqlx::Sqlite`. Sealed.
pub trait SqliteDb: Database + sealed::Sealed {}

#[cfg(feature = "sqlite")]
impl SqliteDb for sqlx::Sqlite {}

mod sealed {
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
}

/// SQLite's statements for a struct, built at compile time by `upsert_core` with its
/// `Sqlite` dialect.
#[derive(Debug, Clone, Copy)]
pub struct SqlitePlan {
    /// `INSERT .. ON CONFLICT (key) DO UPDATE .. RETURNING 1`.
    pub upsert_sql: &'static str,
    /// `INSERT .. ON CONFLICT (key) DO NOTHING RETURNING 1`.
    pub insert_or_ignore_sql: &'static str,
    /// The upsert returning every field's column, in field order.
    pub returning_sql: &'static str,
    /// `SELECT 1 FROM t WHERE key = ..`: whether the key is stored.
    pub probe_sql: &'static str,
    /// How `upsert` learns its outcome.
    pub single: SqliteSingle,
    /// The batch statements, largest first, down to one row.
    pub chunks: &'static [SqliteChunk],
    /// What no written row from `upsert_sql` means.
    pub unwritten: Unwritten,
    /// Each field's affinity, in field order, where its type fixes one (`verify`).
    pub affinities: &'static [Option<Affinity>],
}

/// How a SQLite `upsert` tells an insert from an update, without `xmax`.
#[derive(Debug, Clone, Copy)]
pub enum SqliteSingle {
    /// No guard: this `UPDATE .. RETURNING 1` of the stored row first (an update when it
    /// returns a row), else `INSERT .. ON CONFLICT DO NOTHING` (an insert when it returns
    /// one), again while neither writes. Each statement is atomic on its own.
    UpdateFirst(&'static str),
    /// A guard may leave the row unwritten: the probe, then the upsert, under one write lock.
    Probe,
    /// Nothing to update (every column is a key): the upsert alone, which inserts or skips.
    Write,
}

/// A batch statement for a chunk of exactly `rows` rows.
#[derive(Debug, Clone, Copy)]
pub struct SqliteChunk {
    /// The rows it binds.
    pub rows: usize,
    /// The write, binding each row's written fields, row after row; its change count is
    /// the number of rows that wrote.
    pub upsert_sql: &'static str,
    /// `(distinct keys, keys already stored)`, binding each row's key fields, row after
    /// row; read before the write.
    pub existing_sql: &'static str,
}

/// A field type SQLite can take from sqlx.
#[diagnostic::on_unimplemented(
    message = "the field type `{Self}` cannot be sent to SQLite by sqlx",
    label = "SQLite calls need `sqlx::Encode<Sqlite>` and `sqlx::Type<Sqlite>` for every written field",
    note = "PostgreSQL-only types (arrays, ranges, intervals, network types, ..) have no SQLite form; keep such structs on PostgreSQL"
)]
pub trait SqliteColumn<DB: SqliteDb>:
    for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB> + Send + Sync
{
}

impl<DB: SqliteDb, T> SqliteColumn<DB> for T where
    T: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB> + Send + Sync
{
}

/// The SQLite side of a derived struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run on SQLite",
    label = "the derive gave `{Self}` no SQLite statements",
    note = "every written field's type must be one sqlx sends to SQLite, and the struct must use nothing SQLite lacks (`schema`, `constraint`, `nulls_not_distinct`, `sql_type`, arrays)"
)]
pub trait GeneratedSqlite<DB: SqliteDb>: Derived {
    /// The statements.
    const SQLITE: SqlitePlan;

    /// Binds the written fields, in statement order.
    fn bind_row_sqlite<'q>(&'q self, query: SqliteQuery<'q, DB>) -> SqliteQuery<'q, DB>;

    /// Binds the conflict-key fields, in order (the outcome probe).
    fn bind_key_sqlite<'q>(&'q self, query: SqliteQuery<'q, DB>) -> SqliteQuery<'q, DB>;

    /// Binds every row's written fields, row after row (a chunk's write).
    fn bind_rows_sqlite<'q>(rows: &'q [Self], query: SqliteQuery<'q, DB>) -> SqliteQuery<'q, DB>;

    /// Binds every row's conflict-key fields, row after row (a chunk's key count).
    fn bind_key_rows_sqlite<'q>(
        rows: &'q [Self],
        query: SqliteQuery<'q, DB>,
    ) -> SqliteQuery<'q, DB>;
}

/// The derived struct, read back from SQLite's returned row.
#[diagnostic::on_unimplemented(
    message = "`upsert_returning` cannot read a `{Self}` back from SQLite",
    label = "every field of `{Self}` must be an owned type that sqlx can decode from SQLite",
    note = "borrowed fields (`&'a str`) cannot be read back (a `()` placeholder reads back as `()`); use owned types (`String`, ...) or call `upsert`, which returns only the outcome"
)]
pub trait FromStoredSqlite<'r, DB: SqliteDb>: Sized {
    /// Builds the struct from the returned row.
    fn from_stored_sqlite(row: &'r DB::Row) -> Result<Self, sqlx::Error>;
}

/// Binds one field's value.
#[inline]
pub fn bind_sqlite<'q, DB: SqliteDb, T: SqliteColumn<DB>>(
    query: SqliteQuery<'q, DB>,
    value: &'q T,
) -> SqliteQuery<'q, DB> {
    query.bind(value)
}

/// Reads column `index` of a returned row.
#[inline]
pub fn read_sqlite<'r, DB, T>(row: &'r DB::Row, index: usize) -> Result<T, sqlx::Error>
where
    DB: SqliteDb,
    T: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    row.try_get(index)
}

macro_rules! sqlite_gaps {
    ($($marker:ident, $message:literal, $label:literal;)*) => {
        $(
            #[doc = concat!("Never implemented: ", $message)]
            #[diagnostic::on_unimplemented(message = $message, label = $label, note = "the struct still runs on PostgreSQL; on SQLite, use a struct without it")]
            pub trait $marker {}
        )*
    };
}

// One per `upsert_core::sqlite::Gap`, named by `Gap::marker`: the one place its message is
// written.
sqlite_gaps! {
    SqliteHasNoSchemas,
        "SQLite has no schemas: drop `#[upsert(schema)]` (an attached database is a file, not a schema)",
        "this struct has `#[upsert(schema)]`";
    SqliteHasNoConstraintTargets,
        "SQLite has no `ON CONFLICT ON CONSTRAINT`: name the key columns with `#[conflict_key]` instead of `#[upsert(constraint)]`",
        "this struct has `#[upsert(constraint)]`";
    SqliteHasNoNullsNotDistinct,
        "SQLite unique indexes treat NULLs as distinct: drop `#[upsert(nulls_not_distinct)]`",
        "this struct has `#[upsert(nulls_not_distinct)]`";
    SqliteHasNoCasts,
        "SQLite has no `::` casts: drop `#[upsert(sql_type)]` (SQLite stores each value as sqlx sends it)",
        "this struct has `#[upsert(sql_type)]`";
    SqliteHasNoArrays,
        "SQLite has no array columns: store the `Vec` as JSON (`sqlx::types::Json<Vec<T>>`)",
        "this struct has an array field";
    SqliteCannotTellSkippedFromUnchanged,
        "SQLite cannot tell a skipped row from an unchanged one in one statement: use `version` or `skip_unchanged`, not both",
        "this struct has a guard and `skip_unchanged`";
    SqliteCannotReadTheSentValue,
        "SQLite's statements cannot read the value sent in an update: drop `#[upsert(default)]` and `#[upsert(update_from = \"sent\")]` (SQLite's triggers cannot rewrite a row, so `excluded` is always the value sent)",
        "this struct has `default` or `update_from = \"sent\"`";
}

impl SqlitePlan {
    /// The plan of a struct SQLite cannot take: never used, since its impl requires a
    /// marker trait that nothing implements.
    pub const NONE: SqlitePlan = SqlitePlan {
        upsert_sql: "",
        insert_or_ignore_sql: "",
        returning_sql: "",
        probe_sql: "",
        single: SqliteSingle::Write,
        chunks: &[],
        unwritten: Unwritten::Skipped,
        affinities: &[],
    };
}
