//! Names the derive's generated code uses. Not public API: no semver guarantees.
//!
//! Every helper bounds its field type by [`Column`] alone, and generated code calls each
//! with the field's span, so a type that cannot be sent is reported once, under the field.

mod order;

pub use crate::addable::{AddSign, AddSignBits, NoAddSign, mixed_signs};
pub use crate::dispatch::{Batches, Derived, Returns, Runs};
pub use crate::error::TableKey;
#[cfg(feature = "mysql")]
pub use crate::mysql::generated::*;
#[cfg(feature = "mysql")]
pub use crate::mysql::verify::{ProbeMySql, ProbeNotMySql};
pub use crate::postgres::cancel::Acquired;
pub use crate::postgres::generated::*;
pub use crate::postgres::verify::{Probe, ProbeRegistered, ProbeUnregistered, offline_check};
pub use crate::sqlite::generated::*;
#[cfg(feature = "sqlite")]
pub use crate::sqlite::verify::{ProbeNotSqlite, ProbeSqlite};
pub use crate::verifying::{Gathered, Registered, RegisteredVerify, VerifyFuture};
#[cfg(feature = "mysql")]
pub use sqlx::mysql::MySqlConnection;
#[cfg(feature = "sqlite")]
pub use sqlx::sqlite::SqliteConnection;

/// The derive's MySQL impls pass through this macro: with the `mysql` feature it expands
/// to them, without it to nothing, so a struct pays for MySQL only in a build that uses it.
#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_upsert_if_mysql {
    ($($tokens:tt)*) => { $($tokens)* };
}

/// Without the `mysql` feature: nothing.
#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_upsert_if_mysql {
    ($($tokens:tt)*) => {};
}

pub use crate::__atomic_upsert_if_mysql as if_mysql;

/// The derive's SQLite registration for `verify_all` passes through this macro, as MySQL's
/// impls pass through [`if_mysql`]: with the `sqlite` feature it expands to it, without it
/// to nothing.
#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_upsert_if_sqlite {
    ($($tokens:tt)*) => { $($tokens)* };
}

/// Without the `sqlite` feature: nothing.
#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __atomic_upsert_if_sqlite {
    ($($tokens:tt)*) => {};
}

pub use crate::__atomic_upsert_if_sqlite as if_sqlite;
pub use inventory;
pub use order::*;
pub use sqlx::error::BoxDynError;
pub use sqlx::postgres::{PgArguments, PgConnection, PgRow, PgTypeInfo, Postgres};
pub use sqlx::{ColumnIndex, Database as SqlxDatabase, Decode as SqlxDecode, Type as SqlxType};
pub use upsert_core::Table;
pub use upsert_core::postgres::counts::Counts;
pub use upsert_core::postgres::plan::Statements;
pub use upsert_core::sqlite::types::Affinity;
pub use upsert_core::verify::TypeClass;
pub use upsert_core::{ConflictTarget, Role, Strategy, Unwritten};

pub use sqlx::Error as SqlxError;

/// A type `#[upsert(merge)]` can merge with jsonb `||`.
#[diagnostic::on_unimplemented(
    message = "`#[upsert(merge)]` needs a JSON field type, and `{Self}` is not one",
    label = "`merge` writes jsonb `stored || incoming`: use `sqlx::types::Json<T>` or `serde_json::Value` (optionally in `Option`)",
    note = "JSON field types need the `json` feature of atomic-upsert (on by default)"
)]
pub trait Jsonb {}
#[cfg(feature = "json")]
impl<T> Jsonb for sqlx::types::Json<T> {}
#[cfg(feature = "json")]
impl Jsonb for sqlx::types::JsonValue {}
impl<T: Jsonb> Jsonb for Option<T> {}

/// A type `#[upsert(coalesce)]` can leave unwritten: one that can be NULL.
#[diagnostic::on_unimplemented(
    message = "`#[upsert(coalesce)]` needs an `Option<_>` field type, and `{Self}` is not one",
    label = "`coalesce` keeps the stored value when the incoming one is NULL; a `{Self}` is never NULL",
    note = "make the field `Option<{Self}>`, or drop `coalesce` to always replace the value"
)]
pub trait Nullable {}
impl<T> Nullable for Option<T> {}

/// Checks `#[upsert(add)]`'s type at compile time.
#[inline]
pub const fn assert_numeric<T: crate::Addable + ?Sized>() {}

/// Checks `#[upsert(merge)]`'s type at compile time.
#[inline]
pub const fn assert_jsonb<T: Jsonb + ?Sized>() {}

/// Checks `#[upsert(coalesce)]`'s type at compile time.
#[inline]
pub const fn assert_nullable<T: Nullable + ?Sized>() {}

/// Whether the build-time check knows which columns a field written `rust_type` fits
/// (`upsert_core::verify::compatible_columns`): hidden, for the conformance tests.
#[must_use]
pub fn is_known_type(rust_type: &str) -> bool {
    TypeClass::of(rust_type).is_some()
}
