//! What the derive generates for MySQL/MariaDB, with the `mysql` feature: the statements
//! ([`MySqlPlan`], built by `upsert_core::mysql::statements`), the binds
//! ([`GeneratedMySql`]) and the marker traits of what MySQL lacks.

use sqlx::Database;
use sqlx::mysql::MySql;

use crate::dispatch::Derived;
use upsert_core::Unwritten;

/// The query type the generated MySQL binds fill.
pub type MySqlQuery<'q, DB = MySql> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// A database the derive's MySQL impls are for: `sqlx::MySql`. Sealed. The impls are
/// generic over it, so that a field type MySQL cannot take fails a call on MySQL, not the
/// struct (a bound on a concrete type that does not hold would).
pub trait MySqlDb: Database + sealed::Sealed {}

impl MySqlDb for MySql {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::mysql::MySql {}
}

/// MySQL's statements for a struct, built at compile time by `upsert_core::mysql`.
#[derive(Debug, Clone, Copy)]
pub struct MySqlPlan {
    /// `INSERT .. ON DUPLICATE KEY UPDATE`, the outcome left in `LAST_INSERT_ID`.
    pub upsert_sql: &'static str,
    /// The insert that leaves a stored row alone.
    pub insert_or_ignore_sql: &'static str,
    /// MariaDB's upsert returning the stored row and `LAST_INSERT_ID()`.
    pub returning_sql: &'static str,
    /// The batch statements, largest first, down to one row.
    pub chunks: &'static [MySqlChunk],
    /// What a row the update left alone means (`Skipped`, or `Unchanged` under
    /// `skip_unchanged`).
    pub unwritten: Unwritten,
}

/// A batch statement for a chunk of exactly `rows` rows.
#[derive(Debug, Clone, Copy)]
pub struct MySqlChunk {
    /// The rows it binds.
    pub rows: usize,
    /// The write, binding each row's written fields, row after row.
    pub upsert_sql: &'static str,
}

impl MySqlPlan {
    /// The plan of a struct MySQL cannot take: never used, since its impl requires a
    /// marker trait that nothing implements.
    pub const NONE: MySqlPlan = MySqlPlan {
        upsert_sql: "",
        insert_or_ignore_sql: "",
        returning_sql: "",
        chunks: &[],
        unwritten: Unwritten::Skipped,
    };
}

/// A field type MySQL can take from sqlx.
#[diagnostic::on_unimplemented(
    message = "the field type `{Self}` cannot be sent to MySQL by sqlx",
    label = "MySQL calls need `sqlx::Encode<MySql>` and `sqlx::Type<MySql>` for every written field",
    note = "PostgreSQL-only types (arrays, ranges, network types, ..) have no MySQL form; keep such structs on PostgreSQL"
)]
pub trait MySqlColumn<DB: MySqlDb>:
    for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB> + Send + Sync
{
}

impl<DB: MySqlDb, T> MySqlColumn<DB> for T where
    T: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB> + Send + Sync
{
}

/// The MySQL side of a derived struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run on MySQL",
    label = "the derive gave `{Self}` no MySQL statements",
    note = "every written field's type must be one sqlx sends to MySQL, and the struct must use nothing MySQL lacks (`constraint`, `conflict_where`, `nulls_not_distinct`, `sql_type`, `collate`, `merge`, `update_where`, arrays)"
)]
pub trait GeneratedMySql<DB: MySqlDb>: Derived {
    /// The statements.
    const MYSQL: MySqlPlan;

    /// Binds the written fields, in statement order.
    fn bind_row_mysql<'q>(&'q self, query: MySqlQuery<'q, DB>) -> MySqlQuery<'q, DB>;

    /// sqlx's rule for field `field` (its index in the struct): whether a column of type
    /// `column` can take and give back its values. `true` for a field whose value is not
    /// sent.
    fn column_fits(field: usize, column: &DB::TypeInfo) -> bool;
}

/// The derived struct, read back from MariaDB's returned row (`upsert_returning`).
#[diagnostic::on_unimplemented(
    message = "`upsert_returning` cannot read a `{Self}` back from MySQL",
    label = "every field of `{Self}` must be an owned type that sqlx can decode from MySQL",
    note = "borrowed fields (`&'a str`) cannot be read back (a `()` placeholder reads back as `()`); use owned types (`String`, ...) or call `upsert`, which returns only the outcome"
)]
pub trait FromStoredMySql<'r, DB: MySqlDb>: Sized {
    /// Builds the struct from the returned row.
    fn from_stored_mysql(row: &'r DB::Row) -> Result<Self, sqlx::Error>;
}

/// Reads column `index` of a returned row.
#[inline]
pub fn read_mysql<'r, DB, T>(row: &'r DB::Row, index: usize) -> Result<T, sqlx::Error>
where
    DB: MySqlDb,
    T: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    sqlx::Row::try_get(row, index)
}

/// Binds one field's value.
#[inline]
pub fn bind_mysql<'q, DB: MySqlDb, T: MySqlColumn<DB>>(
    query: MySqlQuery<'q, DB>,
    value: &'q T,
) -> MySqlQuery<'q, DB> {
    query.bind(value)
}

macro_rules! mysql_gaps {
    ($($marker:ident, $message:literal, $label:literal;)*) => {
        $(
            #[doc = concat!("Never implemented: ", $message)]
            #[diagnostic::on_unimplemented(message = $message, label = $label, note = "the struct still runs on PostgreSQL; on MySQL, use a struct without it")]
            pub trait $marker {}
        )*
    };
}

// One per `upsert_core::mysql::Gap`, named by `Gap::marker`: the one place its message is
// written.
mysql_gaps! {
    MySqlHasNoConstraintTargets,
        "MySQL has no conflict target: `ON DUPLICATE KEY UPDATE` fires on any unique index, so `#[upsert(constraint)]` cannot choose one",
        "this struct has `#[upsert(constraint)]`";
    MySqlHasNoPartialIndexes,
        "MySQL has no partial unique indexes: drop `#[upsert(conflict_where)]`",
        "this struct has `#[upsert(conflict_where)]`";
    MySqlHasNoNullsNotDistinct,
        "MySQL unique indexes treat NULLs as distinct: drop `#[upsert(nulls_not_distinct)]`",
        "this struct has `#[upsert(nulls_not_distinct)]`";
    MySqlHasNoCasts,
        "MySQL applies a batch's rows in order with the column's own comparison: drop `#[upsert(sql_type)]` and `#[upsert(collate)]`",
        "this struct has `#[upsert(sql_type)]` or `#[upsert(collate)]`";
    MySqlHasNoArrays,
        "MySQL has no array columns: store the `Vec` as JSON (`sqlx::types::Json<Vec<T>>`)",
        "this struct has an array field";
    MySqlHasNoShallowMerge,
        "MySQL's `JSON_MERGE_PATCH` merges deeply and drops null keys, unlike PostgreSQL's `||`: drop `#[upsert(merge)]` on MySQL",
        "this struct has `#[upsert(merge)]`";
    MySqlCannotReadUpdateWhere,
        "`#[upsert(update_where)]` is raw PostgreSQL SQL: use `version` or `skip_unchanged` on MySQL",
        "this struct has `#[upsert(update_where)]`";
    MySqlCannotTellSkippedFromUnchanged,
        "MySQL cannot tell a skipped row from an unchanged one in one statement here: use `version` or `skip_unchanged`, not both",
        "this struct has a guard and `skip_unchanged`";
    MySqlCannotReadTheSentValue,
        "MySQL's statements cannot read the value sent in an update: drop `#[upsert(default)]` and `#[upsert(update_from = \"sent\")]`",
        "this struct has `default` or `update_from = \"sent\"`";
}
