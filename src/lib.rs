//! # atomic-upsert
//!
//! Race-free PostgreSQL upserts for [sqlx](https://docs.rs/sqlx). Annotate a struct with
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

pub use upsert_derive::AtomicUpsert;
pub use upsert_runtime::{
    Addable, AtomicUpsert, BatchOutcome, BulkPath, COPY_CHUNK_BYTES, COPY_THRESHOLD, Error,
    Obtained, Retry, UpsertOutcome, schema, verify_all,
};

/// The sqlx this crate is built on, re-exported so that your `PgPool` and ours are one type.
///
/// ```no_run
/// # async fn run() -> Result<(), atomic_upsert::sqlx::Error> {
/// let pool = atomic_upsert::sqlx::PgPool::connect("postgres://localhost/app").await?;
/// # Ok(()) }
/// ```
pub use upsert_runtime::sqlx;

#[doc(hidden)]
pub use upsert_runtime::private as __private;
