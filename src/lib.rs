#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate's docs are the README, prose written for GitHub too (names like SChannel, SQLx).
#![allow(clippy::doc_markdown)]

/// Derives [`AtomicUpsert`](trait@AtomicUpsert): the race-free `INSERT .. ON CONFLICT ..
/// DO UPDATE` statement for a struct, built and checked at compile time.
///
/// Mark the unique key with `#[conflict_key]` (several fields: a composite key, in field
/// order). Every other field is written on insert and replaced on conflict unless an
/// attribute says otherwise. The table name defaults to the struct's name in snake case.
/// Every attribute, with an example each, is documented on the trait
/// [`AtomicUpsert`](trait@AtomicUpsert#the-derive).
///
/// ```no_run
/// use atomic_upsert::{AtomicUpsert, BatchOutcome, UpsertOutcome};
/// use atomic_upsert::sqlx::{self, types::Json};
///
/// // CREATE TABLE page_stats (
/// //     url        text PRIMARY KEY,
/// //     title      text,
/// //     views      int8 NOT NULL,
/// //     first_seen int8 NOT NULL,
/// //     meta       jsonb NOT NULL,
/// //     updated_at timestamptz NOT NULL);
/// #[derive(AtomicUpsert)]
/// #[upsert(table = "page_stats")]
/// struct PageStats {
///     #[conflict_key]
///     url: String,
///     #[upsert(coalesce)]          // a NULL never overwrites a stored title
///     title: Option<String>,
///     #[upsert(add)]               // stored + incoming: no lost increments
///     views: i64,
///     #[upsert(insert_only)]       // written once, never overwritten
///     first_seen: i64,
///     #[upsert(merge)]             // jsonb stored || incoming
///     meta: Json<serde_json::Value>,
///     #[upsert(updated_at)]        // now() on every write; the field holds nothing
///     updated_at: (),
/// }
///
/// # async fn run(pool: sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// let visit = PageStats {
///     url: "/".into(),
///     title: None,
///     views: 1,
///     first_seen: 1_700_000_000,
///     meta: Json(serde_json::json!({ "lang": "en" })),
///     updated_at: (),
/// };
/// // One statement, one round trip, on a pool, `&mut *conn` or `&mut *tx`.
/// let outcome: UpsertOutcome = visit.upsert(&pool).await?;
/// // Many rows in one statement: duplicates of a key fold as one by one, keys in order.
/// let counts: BatchOutcome = PageStats::upsert_many(&pool, &[visit]).await?;
/// // The statement is a compile-time constant.
/// assert!(PageStats::UPSERT_SQL.contains(r#"ON CONFLICT ("url") DO UPDATE"#));
/// # Ok(()) }
/// ```
///
/// Misuse is a compile error at the offending tokens, for example a strategy on the key:
///
/// ```compile_fail
/// use atomic_upsert::AtomicUpsert;
///
/// #[derive(AtomicUpsert)]
/// struct Counter {
///     #[conflict_key]
///     #[upsert(add)]   // error: `#[upsert(add)]` cannot be combined with `#[conflict_key]`
///     name: String,
/// }
/// ```
pub use upsert_derive::AtomicUpsert;
pub use upsert_runtime::{
    Addable, AtomicUpsert, BatchOutcome, BulkPath, COPY_CHUNK_BYTES, COPY_THRESHOLD,
    COPY_THRESHOLD_BYTES, Error, Obtained, Retry, UpsertOutcome, Writer, WriterConfig,
    WriterHistograms, WriterStats, backend, schema, verify, verify_all,
};

/// The sqlx this crate is built on (0.9), re-exported so that your `PgPool` and ours are
/// one type, and so that you need no direct sqlx dependency: `atomic_upsert::sqlx::PgPool`,
/// `atomic_upsert::sqlx::types::Json`, `atomic_upsert::sqlx::query`. The column-type and TLS
/// features of `atomic-upsert` turn on sqlx's features of the same name here.
///
/// ```no_run
/// # async fn run() -> Result<(), atomic_upsert::sqlx::Error> {
/// let pool = atomic_upsert::sqlx::PgPool::connect("postgres://localhost/app").await?;
/// # Ok(()) }
/// ```
pub mod sqlx {
    #[doc(no_inline)]
    pub use upsert_runtime::sqlx::*;

    /// sqlx's column types ([`sqlx::types`](upsert_runtime::sqlx::types)). A type whose
    /// feature is off is here too, as a stand-in: `use atomic_upsert::sqlx::types::Uuid;`
    /// compiles, and a field of it fails with the error that names the feature to turn on
    /// (`the field type `Uuid` needs the `uuid` feature of atomic-upsert`).
    ///
    /// ```
    /// use atomic_upsert::sqlx::types::Json;
    ///
    /// let tags = Json(vec!["a", "b"]);
    /// assert_eq!(tags.0.len(), 2);
    /// ```
    pub mod types {
        #[doc(no_inline)]
        pub use upsert_runtime::sqlx::types::*;

        // Named one by one, so that each shadows sqlx's own should another crate turn on
        // sqlx's feature while atomic-upsert's is off (two globs would make it ambiguous).
        #[cfg(not(feature = "bigdecimal"))]
        pub use crate::missing::BigDecimal;
        #[cfg(not(feature = "bit-vec"))]
        pub use crate::missing::BitVec;
        #[cfg(not(feature = "rust_decimal"))]
        pub use crate::missing::Decimal;
        #[cfg(not(feature = "uuid"))]
        pub use crate::missing::Uuid;
        #[cfg(not(feature = "chrono"))]
        pub use crate::missing::chrono;
        #[cfg(not(feature = "ipnet"))]
        pub use crate::missing::ipnet;
        #[cfg(not(feature = "ipnetwork"))]
        pub use crate::missing::ipnetwork;
        #[cfg(not(feature = "mac_address"))]
        pub use crate::missing::mac_address;
        #[cfg(not(feature = "time"))]
        pub use crate::missing::time;
        #[cfg(not(feature = "json"))]
        pub use crate::missing::{Json, JsonValue};
    }
}

mod missing;

#[doc(hidden)]
pub use upsert_runtime::private as __private;
