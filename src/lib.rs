//! # atomic-upsert
//!
//! Race-free PostgreSQL (and SQLite) upserts for [sqlx](https://docs.rs/sqlx). Annotate a struct with
//! `#[derive(AtomicUpsert)]`, mark its unique key with `#[conflict_key]`, and call
//! [`upsert`](AtomicUpsert::upsert): one `INSERT .. ON CONFLICT .. DO UPDATE` statement,
//! generated and checked at compile time, executed in one round trip.
//!
//! The pattern this replaces fails under concurrency:
//!
//! ```text
//! SELECT .. WHERE stats_type = 'ytd'    -- two cron jobs both see no row
//! INSERT ..                              -- both insert; one dies with
//!                                        -- "duplicate key value violates unique constraint"
//! ```
//!
//! ```no_run
//! use atomic_upsert::{AtomicUpsert, UpsertOutcome};
//! use atomic_upsert::sqlx::{self, types::Json};
//!
//! #[derive(AtomicUpsert)]
//! #[upsert(table = "strava_stats")]
//! struct StravaStats {
//!     #[conflict_key]
//!     stats_type: String,
//!     data: Json<serde_json::Value>,
//!     #[upsert(updated_at)]
//!     updated_at: (),
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), atomic_upsert::Error> {
//!     let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await?;
//!     sqlx::query(
//!         "CREATE TABLE IF NOT EXISTS strava_stats (
//!              stats_type text PRIMARY KEY,
//!              data jsonb NOT NULL,
//!              updated_at timestamptz NOT NULL)",
//!     )
//!     .execute(&pool)
//!     .await?;
//!
//!     let ytd = StravaStats {
//!         stats_type: "ytd".into(),
//!         data: Json(serde_json::json!({ "distance_km": 1234.5 })),
//!         updated_at: (),
//!     };
//!     match ytd.upsert(&pool).await? {
//!         UpsertOutcome::Inserted => println!("first run: row created"),
//!         UpsertOutcome::Updated => println!("row refreshed"),
//!         other => println!("{other:?}"),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Every attribute is documented on [`AtomicUpsert`]. Errors are typed by cause: see
//! [`Error`].
//!
//! ## SQLite
//!
//! With the `sqlite` feature (sqlx's bundled SQLite: nothing to install), the same struct
//! and the same calls run on `&SqlitePool`, `&mut *conn` and `&mut *tx`, with the same
//! outcomes, strategies and guards. SQLite has no schemas, no `ON CONFLICT ON CONSTRAINT`,
//! no arrays and no `::` casts: a struct using those is rejected at the SQLite call site,
//! and still runs on PostgreSQL. `insert_or_get`, [`Retry`] and [`verify_all`] are
//! PostgreSQL's only.
//!
#![cfg_attr(feature = "sqlite", doc = "```no_run")]
#![cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
//! use atomic_upsert::{AtomicUpsert, UpsertOutcome};
//! use atomic_upsert::sqlx::SqlitePool;
//!
//! #[derive(AtomicUpsert)]
//! struct PageViews {
//!     #[conflict_key]
//!     url: String,
//!     #[upsert(add)]
//!     views: i64,
//! }
//!
//! # async fn run() -> Result<(), atomic_upsert::Error> {
//! let pool = SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
//! let hit = PageViews { url: "/".into(), views: 1 };
//! assert!(matches!(hit.upsert(&pool).await?, UpsertOutcome::Inserted | UpsertOutcome::Updated));
//! PageViews::verify(&pool).await?; // against SQLite's catalog
//! # Ok(()) }
//! ```

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
    COPY_THRESHOLD_BYTES, Error, Obtained, Retry, UpsertOutcome, Writer, WriterConfig, WriterStats,
    backend, schema, verify_all,
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
}

#[doc(hidden)]
pub use upsert_runtime::private as __private;
