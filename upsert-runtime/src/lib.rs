//! Runtime of [`atomic-upsert`](https://docs.rs/atomic-upsert): the [`AtomicUpsert`] trait,
//! its execution on sqlx, [`UpsertOutcome`] and [`Error`].
//!
//! Use it through the `atomic-upsert` crate, which also re-exports the derive.
//!
//! The crate root only names things: the trait is in `upsert.rs`, the traits a call
//! dispatches through in `dispatch.rs`, and each backend in its folder (`postgres/`,
//! `sqlite/`), which implements them (see ARCHITECTURE.md).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod addable;
mod classify;
mod dispatch;
mod error;
#[cfg(feature = "mysql")]
mod mysql;
mod outcome;
mod postgres;
#[doc(hidden)]
pub mod private;
mod report;
mod retry;
mod sqlite;
mod telemetry;
mod upsert;
mod verifying;
mod writer;

pub use addable::Addable;
pub use dispatch::{BulkPath, verify_all};
pub use error::Error;
pub use outcome::{BatchOutcome, Obtained, UpsertOutcome};
pub use postgres::bulk::{COPY_THRESHOLD, COPY_THRESHOLD_BYTES};
pub use postgres::stage::COPY_CHUNK_BYTES;
pub use retry::Retry;
pub use sqlx;
pub use upsert::AtomicUpsert;
pub use writer::{Writer, WriterConfig, WriterHistograms, WriterStats};

pub mod backend {
    //! Which database a call runs on: the traits in [`AtomicUpsert`](crate::AtomicUpsert)'s signatures.
    //!
    //! You never implement or name these; they say, in a method's bounds, what a call needs.
    //! The methods take any sqlx executor and dispatch on its `Database`: [`Runs`] (single-row
    //! calls), [`Returns`] (`upsert_returning`) and [`Batches`] (`upsert_many`, `verify`),
    //! implemented for `sqlx::Postgres` always, `sqlx::Sqlite` with the `sqlite` feature and
    //! `sqlx::MySql` with the `mysql` feature.
    //! Each impl states what that database needs of the executor and of the struct, so an
    //! error names the executor and the database. [`Generated`] and [`FromStored`] are what
    //! `#[derive(AtomicUpsert)]` implements for PostgreSQL; [`Acquired`] is a connection a
    //! call acquired (from a pool it owns, or one you lend), which decides what a call dropped
    //! part way leaves behind. [`Derived`] is what every backend reads of a struct: its
    //! [`TableKey`].
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

    pub use crate::dispatch::{Batches, Derived, Returns, Runs, Sql, Statements, VerifiesAll};
    pub use crate::error::TableKey;
    pub use crate::postgres::cancel::Acquired;
    pub use crate::postgres::generated::{FromStored, Generated};
}

pub mod schema {
    //! Schema verification's report: what [`AtomicUpsert::verify`](crate::AtomicUpsert::verify)
    //! and [`verify_all`](crate::verify_all) return inside [`Error::SchemaMismatch`](crate::Error::SchemaMismatch).
    //!
    //! ```no_run
    //! # async fn run(pool: atomic_upsert::sqlx::PgPool) {
    //! use atomic_upsert::Error;
    //!
    //! match atomic_upsert::verify_all(&pool).await {
    //!     Ok(()) => {}
    //!     Err(Error::SchemaMismatch(report)) => {
    //!         for (name, mismatch) in report.mismatches() {
    //!             eprintln!("{name}: {}", mismatch.fix);
    //!         }
    //!     }
    //!     Err(other) => eprintln!("{other}"),
    //! }
    //! # }
    //! ```

    pub use crate::postgres::catalog::snapshot;
    pub use crate::report::{Mismatch, MismatchKind, SchemaReport, Site, StructReport};
    pub use upsert_core::schema::Snapshot;
}
