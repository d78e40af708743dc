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

/// Feature gates: for a field type from a crate that sqlx supports behind a feature, the
/// derive calls `(&Gate::<T>::new()).<feature>()`. When `T` can be sent, the call resolves
/// to a no-op ([`GateSent`]); otherwise, by autoref, to [`GateMissing`], whose method
/// requires the feature's marker trait. That trait holds for every type once the feature
/// is on, so the only error left is the one that names the feature to enable.
pub struct Gate<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> Gate<T> {
    /// A gate for `T`.
    #[must_use]
    pub const fn new() -> Self {
        Gate(std::marker::PhantomData)
    }
}

impl<T: ?Sized> Default for Gate<T> {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! feature_gates {
    ($($feature:literal, $method:ident, $marker:ident, $message:literal, $note:literal;)*) => {
        $(
            #[doc = concat!("Holds for every type when the `", $feature, "` feature is on.")]
            #[diagnostic::on_unimplemented(
                message = $message,
                label = "this type needs a feature of atomic-upsert that is off",
                note = $note
            )]
            pub trait $marker {}

            #[cfg(feature = $feature)]
            impl<T: ?Sized> $marker for T {}
        )*

        /// The gate of a type that can be sent: nothing to check.
        pub trait GateSent {
            $(
                #[doc = concat!("No-op: the type can be sent.")]
                fn $method(&self) {}
            )*
        }

        /// The gate of an array type that can be sent: nothing to check.
        pub trait GateSentArray {
            $(
                #[doc = concat!("No-op: the type can be sent.")]
                fn $method(&self) {}
            )*
        }

        /// The gate of a type that cannot be sent: names the feature that is off.
        pub trait GateMissing<T: ?Sized> {
            $(
                #[doc = concat!("Requires the `", $feature, "` feature.")]
                fn $method(&self)
                where
                    T: $marker;
            )*
        }

        impl<T: ?Sized> GateMissing<T> for &Gate<T> {
            $(
                fn $method(&self)
                where
                    T: $marker,
                {
                }
            )*
        }
    };
}

feature_gates! {
    "uuid", uuid, UuidFeature,
        "the field type `{Self}` needs the `uuid` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"uuid\"] }}";
    "chrono", chrono, ChronoFeature,
        "the field type `{Self}` needs the `chrono` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"chrono\"] }}";
    "time", time, TimeFeature,
        "the field type `{Self}` needs the `time` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"time\"] }}";
    "rust_decimal", rust_decimal, RustDecimalFeature,
        "the field type `{Self}` needs the `rust_decimal` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"rust_decimal\"] }}";
    "bigdecimal", bigdecimal, BigDecimalFeature,
        "the field type `{Self}` needs the `bigdecimal` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"bigdecimal\"] }}";
    "ipnet", ipnet, IpnetFeature,
        "the field type `{Self}` needs the `ipnet` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"ipnet\"] }}";
    "ipnetwork", ipnetwork, IpnetworkFeature,
        "the field type `{Self}` needs the `ipnetwork` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"ipnetwork\"] }}";
    "mac_address", mac_address, MacAddressFeature,
        "the field type `{Self}` needs the `mac_address` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"mac_address\"] }}";
    "bit-vec", bit_vec, BitVecFeature,
        "the field type `{Self}` needs the `bit-vec` feature of atomic-upsert",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"bit-vec\"] }}";
    "json", json, JsonFeature,
        "the field type `{Self}` needs the `json` feature of atomic-upsert (on by default)",
        "in Cargo.toml: atomic-upsert = {{ version = \"0.1\", features = [\"json\"] }}";
}

impl<T: Column> GateSent for Gate<T> {}

impl<T: ArrayColumn> GateSentArray for Gate<T> {}

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
