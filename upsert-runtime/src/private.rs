//! Names the derive's generated code uses. Not public API: no semver guarantees.

pub use sqlx::postgres::{PgArguments, Postgres};

/// The query type the generated `__bind` fills.
pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// A Rust type that can be bound as a PostgreSQL parameter.
#[diagnostic::on_unimplemented(
    message = "the field type `{Self}` cannot be sent to PostgreSQL by sqlx",
    label = "this field's type implements neither `sqlx::Encode<Postgres>` nor `sqlx::Type<Postgres>`",
    note = "use a type sqlx encodes (String, i32, i64, f64, bool, Option<T>, Vec<T>, sqlx::types::Json<T>, ...), derive `sqlx::Type` for your own type, or mark the field `#[upsert(skip)]`"
)]
pub trait Column: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + Sync {}

impl<T> Column for T where T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + Sync
{}

/// Binds one field. Generated code calls it with the field's span, so a type that is not a
/// [`Column`] is reported under that field.
#[inline]
pub fn bind<'q, T: Column>(query: PgQuery<'q>, value: &'q T) -> PgQuery<'q> {
    query.bind(value)
}
