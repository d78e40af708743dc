//! Names the derive's generated code uses. Not public API: no semver guarantees.
//!
//! Every helper bounds its field type by [`Column`] alone, and generated code calls each
//! with the field's span, so a type that cannot be sent is reported once, under the field.

pub use sqlx::error::BoxDynError;
pub use sqlx::postgres::{PgArguments, PgTypeInfo, Postgres};

use sqlx::encode::IsNull;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType};

/// The query type the generated `__bind` fills.
pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// A Rust type that can be bound as a PostgreSQL parameter, alone or as an array (bulk
/// upserts send one array per column).
#[diagnostic::on_unimplemented(
    message = "the field type `{Self}` cannot be sent to PostgreSQL by sqlx",
    label = "this field's type must implement `sqlx::Encode<Postgres>`, `sqlx::Type<Postgres>` and `PgHasArrayType`",
    note = "use a type sqlx encodes (String, i32, i64, f64, bool, Option<T>, sqlx::types::Json<T>, ...), derive `sqlx::Type` for your own type (which also gives `PgHasArrayType`), or mark the field `#[upsert(skip)]`; PostgreSQL array columns (`Vec<T>`) are not supported yet, because bulk upserts send each column as an array"
)]
pub trait Column:
    for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + PgHasArrayType + Send + Sync
{
}

impl<T> Column for T where
    T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + PgHasArrayType + Send + Sync
{
}

/// Everything generated code does with a field's value. One trait with a blanket impl, so
/// a field type that is not a [`Column`] fails the same obligation at every use, and the
/// compiler reports it once, under the field.
pub trait ColumnOps: Column + Sized {
    /// Binds one field of one row.
    #[inline]
    fn bind<'q>(query: PgQuery<'q>, value: &'q Self) -> PgQuery<'q> {
        query.bind(value)
    }

    /// Binds one column of a batch as an array (the `UNNEST` path).
    #[inline]
    fn bind_array<'q, R: 'q>(
        query: PgQuery<'q>,
        rows: &'q [R],
        field: impl Fn(&'q R) -> &'q Self,
    ) -> PgQuery<'q>
    where
        Self: 'q,
    {
        query.bind(rows.iter().map(field).collect::<Vec<&Self>>())
    }

    /// The PostgreSQL type of the column (the `COPY` path's staging table).
    #[inline]
    #[must_use]
    fn type_info() -> PgTypeInfo {
        <Self as sqlx::Type<Postgres>>::type_info()
    }

    /// Appends the value to a binary `COPY` row.
    #[inline]
    fn copy_into(&self, out: &mut CopyBuffer) -> Result<(), BoxDynError> {
        out.field(self)
    }
}

impl<T: Column> ColumnOps for T {}

/// Rows in PostgreSQL's binary `COPY` format.
pub struct CopyBuffer {
    buf: PgArgumentBuffer,
}

impl CopyBuffer {
    const SIGNATURE: &'static [u8] = b"PGCOPY\n\xff\r\n\0";

    pub(crate) fn new() -> Self {
        let mut buf = PgArgumentBuffer::default();
        buf.extend_from_slice(Self::SIGNATURE);
        buf.extend_from_slice(&0_i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0_i32.to_be_bytes()); // header extension length
        CopyBuffer { buf }
    }

    pub(crate) fn start_row(&mut self, fields: usize) {
        // Field counts are bounded by the struct's field count, far below i16::MAX.
        self.buf
            .extend_from_slice(&i16::try_from(fields).unwrap_or(i16::MAX).to_be_bytes());
    }

    pub(crate) fn ordinal(&mut self, ord: i64) {
        self.buf.extend_from_slice(&8_i32.to_be_bytes());
        self.buf.extend_from_slice(&ord.to_be_bytes());
    }

    pub(crate) fn finish(&mut self) {
        self.buf.extend_from_slice(&(-1_i16).to_be_bytes());
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.buf)
    }

    /// Appends one field: its length, then sqlx's binary encoding (the same bytes sqlx
    /// sends as a bound parameter), or length -1 for NULL.
    pub fn field<T: Column>(&mut self, value: &T) -> Result<(), BoxDynError> {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0_i32.to_be_bytes());
        match sqlx::Encode::<Postgres>::encode_by_ref(value, &mut self.buf)? {
            IsNull::Yes => {
                self.buf.truncate(at);
                self.buf.extend_from_slice(&(-1_i32).to_be_bytes());
            }
            IsNull::No => {
                let len = i32::try_from(self.buf.len() - at - 4)
                    .map_err(|_| "a value longer than 2 GiB cannot be sent through COPY")?;
                self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
        Ok(())
    }
}
