//! The traits a call dispatches through, shared by every backend (each backend implements
//! them in its own folder): [`Runs`], [`Returns`], [`Batches`], [`Statements`],
//! [`VerifiesAll`] (with [`verify_all`]), and [`Derived`], what every backend reads of a
//! struct. Public as `atomic_upsert::backend`
//! (see `lib.rs`).

use std::future::Future;

use sqlx::Database;

use sqlx::Acquire;

use crate::error::{Error, TableKey};
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::verifying::{Gathered, RegisteredVerify};

/// What every backend reads of a `#[derive(AtomicUpsert)]` struct: its table and conflict
/// key. The derive implements it; [`AtomicUpsert`](crate::AtomicUpsert)'s `TABLE`,
/// `SCHEMA` and `CONFLICT_COLUMNS` read it.
///
/// ```
/// use atomic_upsert::{AtomicUpsert, backend::Derived};
///
/// #[derive(AtomicUpsert)]
/// struct Tag { #[conflict_key] name: String }
///
/// assert_eq!(<Tag as Derived>::KEY.table, "tag");
/// ```
pub trait Derived: Send + Sync + Sized {
    /// The table and conflict-key columns of the struct's statements.
    const KEY: TableKey;
}

/// The single-row calls of a struct `T` on a database, through executor `E`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot run `{T}` through `{E}`",
    label = "`{T}` cannot run on this executor's database",
    note = "executors: PostgreSQL takes any `PgExecutor` (`&PgPool`, `&mut *conn`, `&mut *tx`); SQLite (the `sqlite` feature) takes `&SqlitePool` or `&mut SqliteConnection`; MySQL (the `mysql` feature) takes `&MySqlPool` or `&mut MySqlConnection` (`&mut *conn`, `&mut *tx`)",
    note = "on SQLite or MySQL, the struct must use nothing that database lacks, and every written field's type must be one sqlx sends to it: the other errors here say which"
)]
pub trait Runs<'c, T, E>: Database {
    /// [`AtomicUpsert::upsert`](crate::AtomicUpsert::upsert).
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send;

    /// [`AtomicUpsert::insert_or_ignore`](crate::AtomicUpsert::insert_or_ignore).
    fn insert_or_ignore(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send;
}

/// [`AtomicUpsert::upsert_returning`](crate::AtomicUpsert::upsert_returning) of `T` on a database, through executor `E`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot read `{T}` back through `{E}`",
    label = "`{T}` cannot be read back through this executor",
    note = "borrowed fields (`&'a str`) cannot be read back (a `()` placeholder reads back as `()`); use owned types (`String`, ...) or call `upsert`, which returns only the outcome",
    note = "MySQL has no `RETURNING`: on a MariaDB 10.5+ server, turn on atomic-upsert's `mariadb` feature; on MySQL 8, call `upsert` and read the row back with a `SELECT`"
)]
pub trait Returns<'c, T, E>: Database {
    /// [`AtomicUpsert::upsert_returning`](crate::AtomicUpsert::upsert_returning).
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send;
}

/// The calls of `T` that hold a connection for several statements, through `A`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot run `{T}`'s batches through `{A}`",
    label = "`{T}` cannot run on this executor's database",
    note = "executors: `&pool`, `&mut *conn` or `&mut *tx`, on PostgreSQL, SQLite (the `sqlite` feature) or MySQL (the `mysql` feature)",
    note = "on SQLite or MySQL, the struct must use nothing that database lacks, and every written field's type must be one sqlx sends to it: the other errors here say which"
)]
pub trait Batches<'c, T, A>: Database {
    /// [`AtomicUpsert::upsert_many_via`](crate::AtomicUpsert::upsert_many_via).
    fn upsert_many(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send;

    /// [`AtomicUpsert::upsert_many_outcomes`](crate::AtomicUpsert::upsert_many_outcomes).
    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send;

    /// [`AtomicUpsert::verify`](crate::AtomicUpsert::verify).
    fn verify(executor: A) -> impl Future<Output = Result<(), Error>> + Send;
}

/// The statements a call of `T` sends on a database ([`AtomicUpsert::statements`](crate::AtomicUpsert::statements)).
#[diagnostic::on_unimplemented(
    message = "atomic-upsert has no statements of `{T}` for this database",
    label = "`{T}` has no statements here",
    note = "PostgreSQL always; SQLite and MySQL with their features, for a struct that uses nothing that database lacks"
)]
pub trait Statements<T>: Database {
    /// `T`'s statements on this database.
    fn statements() -> Sql;
}

/// A struct's statements on one database, as the calls send them (built at compile time).
///
/// ```
/// use atomic_upsert::{AtomicUpsert, sqlx::Postgres};
///
/// #[derive(AtomicUpsert)]
/// struct Tag { #[conflict_key] name: String, color: String }
///
/// let sql = Tag::statements::<Postgres>();
/// assert_eq!(sql.upsert, Tag::UPSERT_SQL);
/// assert!(sql.upsert_many.contains("UNNEST"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sql {
    /// [`upsert`](crate::AtomicUpsert::upsert)'s statement. On SQLite an unguarded struct first
    /// tries [`update_first`](Sql::update_first), then this statement's `DO NOTHING` form.
    pub upsert: &'static str,
    /// SQLite's `UPDATE .. RETURNING` of the stored row, tried before the insert by a struct
    /// without a guard (SQLite has no `xmax` to tell an insert from an update); `None` on
    /// PostgreSQL.
    pub update_first: Option<&'static str>,
    /// [`insert_or_ignore`](crate::AtomicUpsert::insert_or_ignore)'s statement.
    pub insert_or_ignore: &'static str,
    /// [`upsert_returning`](crate::AtomicUpsert::upsert_returning)'s statement.
    pub upsert_returning: &'static str,
    /// [`upsert_many`](crate::AtomicUpsert::upsert_many)'s statement: PostgreSQL's `UNNEST`
    /// statement (a batch may also go presorted, or through a staging table); SQLite's
    /// statement for its largest chunk of rows.
    pub upsert_many: &'static str,
}

/// Which way [`AtomicUpsert::upsert_many_via`](crate::AtomicUpsert::upsert_many_via) sends a
/// batch on PostgreSQL. Both give the same result. SQLite has one way (chunks of multi-row
/// upserts under one write lock) and takes any `BulkPath` as that one.
///
/// ```
/// use atomic_upsert::BulkPath;
/// assert_eq!(BulkPath::default(), BulkPath::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BulkPath {
    /// `Unnest` up to [`COPY_THRESHOLD`](crate::COPY_THRESHOLD) rows and
    /// [`COPY_THRESHOLD_BYTES`](crate::COPY_THRESHOLD_BYTES), `Copy` above.
    #[default]
    Auto,
    /// One statement with one array parameter per column.
    Unnest,
    /// Binary `COPY` into a temporary table, then one `INSERT .. SELECT`.
    Copy,
}

/// A database whose derived structs [`verify_all`] checks: PostgreSQL always, SQLite and
/// MySQL with their features. The derive registers each struct's `verify` for each of them.
///
/// ```
/// use atomic_upsert::{backend::VerifiesAll, sqlx::Postgres};
///
/// fn checks_every_struct<DB: VerifiesAll>() {}
/// checks_every_struct::<Postgres>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`verify_all` has no registry of derived structs for `{Self}`",
    label = "`verify_all` cannot check every struct on this database",
    note = "`verify_all` runs on PostgreSQL, and on SQLite and MySQL with atomic-upsert's `sqlite` and `mysql` features"
)]
pub trait VerifiesAll: Database {
    /// Every registered struct: its name and its `verify`.
    fn registered() -> Vec<(&'static str, RegisteredVerify<Self::Connection>)>;
}

/// Checks every `#[derive(AtomicUpsert)]` struct linked into the program against its table,
/// as [`AtomicUpsert::verify`](crate::AtomicUpsert::verify) does for one, and returns one
/// [`Error::SchemaMismatch`] naming every struct that mismatches (and none that matches).
/// The derive registers each struct, so there is no list to keep: call it at startup, or in
/// a one-line test. On PostgreSQL, and on SQLite and MySQL with their features (a struct
/// that cannot run on one of them is not registered there).
///
/// Every struct of the program is checked against the one database you pass: a program
/// whose structs live in two databases checks each with `T::verify` instead.
///
/// ```no_run
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// atomic_upsert::verify_all(&pool).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::SchemaMismatch`] with every mismatching struct's report, in name order; the
/// first other error a struct's check meets (the catalog unreadable, the connection lost).
pub async fn verify_all<'c, A>(executor: A) -> Result<(), Error>
where
    A: Acquire<'c> + Send,
    A::Database: VerifiesAll,
{
    let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
    let mut registered = <A::Database as VerifiesAll>::registered();
    registered.sort_by_key(|(name, _)| *name);
    let mut gathered = Gathered::default();
    for (_, verify) in registered {
        gathered.add(verify(&mut conn).await)?;
    }
    gathered.finish()
}
