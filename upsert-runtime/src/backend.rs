//! Which database a call runs on: the traits in [`AtomicUpsert`]'s signatures.
//!
//! You never implement or name these; they say, in a method's bounds, what a call needs.
//! The methods take any sqlx executor and dispatch on its `Database`: [`Runs`] (single-row
//! calls), [`Returns`] (`upsert_returning`) and [`Batches`] (`upsert_many`, `verify`),
//! implemented for `sqlx::Postgres` always and for `sqlx::Sqlite` with the `sqlite` feature.
//! Each impl states what that database needs of the executor and of the struct, so an
//! error names the executor and the database. [`Generated`] and [`FromStored`] are what
//! `#[derive(AtomicUpsert)]` implements for PostgreSQL; [`Acquired`] is a connection a
//! call acquired (from a pool it owns, or one you lend), which decides what a call dropped
//! part way leaves behind.
//!
//! ```
//! use atomic_upsert::backend::Runs;
//! use atomic_upsert::{AtomicUpsert, sqlx::{PgPool, Postgres}};
//!
//! #[derive(AtomicUpsert)]
//! struct Tag { #[conflict_key] name: String }
//!
//! // What `Tag::upsert(&pool)` needs: PostgreSQL runs a `Tag` through `&PgPool`.
//! fn runs<'c, T, E>() where Postgres: Runs<'c, T, E> {}
//! runs::<Tag, &PgPool>();
//! ```

use std::future::Future;

use sqlx::Database;
use sqlx::postgres::{PgExecutor, Postgres};

use crate::error::Error;
use crate::outcome::{BatchOutcome, UpsertOutcome};
pub use crate::postgres::cancel::Acquired;
pub use crate::postgres::generated::{FromStored, Generated};
use crate::postgres::{calls, verify};
use crate::{AtomicUpsert, BulkPath};

/// The single-row calls of a struct `T` on a database, through executor `E`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot run `{T}` through `{E}`",
    label = "`{T}` cannot run on this executor's database",
    note = "executors: PostgreSQL takes any `PgExecutor` (`&PgPool`, `&mut *conn`, `&mut *tx`); SQLite (the `sqlite` feature) takes `&SqlitePool` or `&mut SqliteConnection` (`&mut *conn`, `&mut *tx`)",
    note = "on SQLite, the struct must use nothing SQLite lacks, and every written field's type must be one sqlx sends to SQLite: the other errors here say which"
)]
pub trait Runs<'c, T, E>: Database {
    /// [`AtomicUpsert::upsert`].
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send;

    /// [`AtomicUpsert::insert_or_ignore`].
    fn insert_or_ignore(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send;
}

/// [`AtomicUpsert::upsert_returning`] of `T` on a database, through executor `E`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot read `{T}` back through `{E}`",
    label = "`{T}` cannot be read back through this executor",
    note = "borrowed fields (`&'a str`) and placeholders such as `()` cannot be read back; use owned types (`String`, ...) or call `upsert`, which returns only the outcome"
)]
pub trait Returns<'c, T, E>: Database {
    /// [`AtomicUpsert::upsert_returning`].
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send;
}

/// The calls of `T` that hold a connection for several statements, through `A`.
#[diagnostic::on_unimplemented(
    message = "atomic-upsert cannot run `{T}`'s batches through `{A}`",
    label = "`{T}` cannot run on this executor's database",
    note = "executors: `&pool`, `&mut *conn` or `&mut *tx`, on PostgreSQL or (the `sqlite` feature) SQLite",
    note = "on SQLite, the struct must use nothing SQLite lacks, and every written field's type must be one sqlx sends to SQLite: the other errors here say which"
)]
pub trait Batches<'c, T, A>: Database {
    /// [`AtomicUpsert::upsert_many_via`].
    fn upsert_many(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send;

    /// [`AtomicUpsert::upsert_many_outcomes`].
    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send;

    /// [`AtomicUpsert::verify`].
    fn verify(executor: A) -> impl Future<Output = Result<(), Error>> + Send;
}

impl<'c, T, E> Runs<'c, T, E> for Postgres
where
    T: AtomicUpsert,
    E: PgExecutor<'c> + sqlx::Acquire<'c, Database = Postgres>,
{
    fn upsert(row: &T, executor: E) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        calls::upsert(row, executor, 1)
    }

    fn insert_or_ignore(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send {
        calls::insert_or_ignore(row, executor, 1)
    }
}

impl<'c, T, E> Returns<'c, T, E> for Postgres
where
    T: AtomicUpsert + for<'r> FromStored<'r>,
    E: PgExecutor<'c>,
{
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        calls::upsert_returning(row, executor, 1)
    }
}

impl<'c, T, A> Batches<'c, T, A> for Postgres
where
    T: AtomicUpsert,
    A: sqlx::Acquire<'c, Database = Postgres> + Send,
    A::Connection: Acquired,
{
    fn upsert_many(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send {
        calls::upsert_many(executor, rows, lent_path::<A::Connection>(path), 1)
    }

    fn upsert_many_outcomes(
        executor: A,
        rows: &[T],
        path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send {
        calls::upsert_many_outcomes(executor, rows, lent_path::<A::Connection>(path))
    }

    fn verify(executor: A) -> impl Future<Output = Result<(), Error>> + Send {
        verify::verify(executor, verify::Subject::of_struct::<T>())
    }
}

/// The statements a call of `T` sends on a database ([`AtomicUpsert::statements`]).
#[diagnostic::on_unimplemented(
    message = "atomic-upsert has no statements of `{T}` for this database",
    label = "`{T}` has no statements here",
    note = "PostgreSQL always; SQLite with the `sqlite` feature, for a struct that uses nothing SQLite lacks"
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
    /// [`upsert`](AtomicUpsert::upsert)'s statement. On SQLite an unguarded struct first
    /// tries [`update_first`](Sql::update_first), then this statement's `DO NOTHING` form.
    pub upsert: &'static str,
    /// SQLite's `UPDATE .. RETURNING` of the stored row, tried before the insert by a struct
    /// without a guard (SQLite has no `xmax` to tell an insert from an update); `None` on
    /// PostgreSQL.
    pub update_first: Option<&'static str>,
    /// [`insert_or_ignore`](AtomicUpsert::insert_or_ignore)'s statement.
    pub insert_or_ignore: &'static str,
    /// [`upsert_returning`](AtomicUpsert::upsert_returning)'s statement.
    pub upsert_returning: &'static str,
    /// [`upsert_many`](AtomicUpsert::upsert_many)'s statement: PostgreSQL's `UNNEST`
    /// statement (a batch may also go presorted, or through a staging table); SQLite's
    /// statement for its largest chunk of rows.
    pub upsert_many: &'static str,
}

impl<T: AtomicUpsert> Statements<T> for Postgres {
    fn statements() -> Sql {
        Sql {
            upsert: T::UPSERT_SQL,
            update_first: None,
            insert_or_ignore: T::INSERT_OR_IGNORE_SQL,
            upsert_returning: T::UPSERT_RETURNING_SQL,
            upsert_many: T::UPSERT_MANY_SQL,
        }
    }
}

/// On a connection the caller lends, `Auto` takes the `UNNEST` path: there the staging
/// table is loaded by `INSERT` statements, not by `COPY` (see `cancel`), which gains
/// nothing over one `UNNEST` statement. On a pool, `Auto` chooses by size.
fn lent_path<C: Acquired>(path: BulkPath) -> BulkPath {
    match path {
        BulkPath::Auto if !C::OWNED => BulkPath::Unnest,
        path => path,
    }
}
