//! The SQL core of [`atomic-upsert`](https://docs.rs/atomic-upsert): the model of a derived
//! struct, the dialects, the statement builders, the reserved names and the layout of the
//! bulk counts.
//!
//! A proc-macro crate cannot export code, so everything the derive (at compile time) and
//! the runtime (at run time) must agree on lives here, once, in a plain library with no
//! dependencies (the `sqlx-macros-core` pattern). Use it through the `atomic-upsert` crate;
//! this crate has no stability guarantees of its own.
//!
//! The flow: [`Role`]s (one per field, from the attributes) → [`Model`] → [`single`]
//! statement text, written through a [`Dialect`], and each backend's own statements
//! ([`postgres::bulk`], [`sqlite::bulk`]). A backend is one module: [`postgres`], [`sqlite`].
//!
//! ```
//! use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
//!
//! let model = Model::new(
//!     Table { schema: None, name: "strava_stats" },
//!     ConflictTarget::Keys { predicate: None },
//!     [("stats_type", Role::Key), ("data", Role::Write)],
//!     None,
//!     false,
//! );
//! assert_eq!(
//!     single::upsert(&Postgres, &model),
//!     r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data" RETURNING (xmax = 0)"#
//! );
//! ```

mod clause;
mod dialect;
mod model;
pub mod mysql;
pub mod names;
pub mod postgres;
mod role;
mod rust_type;
pub mod schema;
pub mod single;
mod sql_buf;
pub mod sqlite;
mod strategy;
pub mod verify;

pub use dialect::Dialect;
pub use model::{
    Column, ConflictTarget, FieldDef, Guard, InsertFlag, Model, NullKeys, Table, Tally, Unwritten,
};
pub use mysql::MySql;
pub use postgres::Postgres;
pub use role::{Insert, Role, Strategy, Update};
pub use rust_type::{is_array_type, is_text_type};
pub use sqlite::Sqlite;
