//! What the derive generates for PostgreSQL, and what the PostgreSQL calls read from it:
//! [`Generated`] (binds, `COPY` rows, the [`Plan`] of statements), the field-type traits
//! ([`Column`], [`ColumnOps`], [`ArrayColumn`], [`ArrayOps`]) and [`FromStored`]. Named by
//! generated code through `atomic_upsert::__private`; not public API.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgHasArrayType, PgRow, PgTypeInfo, Postgres};
use upsert_core::postgres::counts::Counts;
use upsert_core::postgres::plan::Statements;
use upsert_core::verify::TypeClass;
use upsert_core::{ConflictTarget, Role, Unwritten};

use crate::dispatch::Derived;

/// The query type the generated binds fill.
pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// What the derive generates for PostgreSQL: the [`Plan`] of statements, the binds, the
/// `COPY` path's rows, and how to read answers. A supertrait of
/// [`AtomicUpsert`](crate::AtomicUpsert), whose PostgreSQL constants (`UPSERT_SQL`, ..)
/// read its plan, so that the user-facing trait shows only what users call. The PostgreSQL
/// calls need nothing else of a struct.
pub trait Generated: Derived {
    /// The statements and answer layouts the runtime needs besides the public constants.
    const PLAN: Plan;

    /// Binds the written fields, in statement order.
    fn bind_row<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q>;

    /// Binds the conflict-key fields, in order (get-or-create's `SELECT`).
    fn bind_key<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q>;

    /// Binds one array per written column (the `UNNEST` path), the rows in the order given.
    fn bind_rows<'q>(rows: &[&'q Self], query: PgQuery<'q>) -> PgQuery<'q>;

    /// The PostgreSQL types of the bound columns (the `COPY` path's staging table).
    fn stage_types() -> Vec<PgTypeInfo>;

    /// Appends the bound fields in binary `COPY` format.
    fn copy_row(&self, out: &mut CopyBuffer) -> Result<(), BoxDynError>;

    /// Compares two rows' conflict keys in the batch's lock order ([`KeyOrder`](crate::private::KeyOrder)); `None`
    /// when a key type has no client order, and the batch is left to the server's fold.
    #[inline]
    fn key_cmp(a: &Self, b: &Self) -> Option<std::cmp::Ordering> {
        let _ = (a, b);
        None
    }

    /// Whether a conflict-key field of the row is NULL (such a row never conflicts, unless
    /// the struct says `nulls_not_distinct`).
    #[inline]
    fn key_is_null(&self) -> bool {
        false
    }

    /// For each `add` column `j` (in field order, the first 32), whether the row adds a
    /// negative amount (bit `2j`) and a positive one (bit `2j + 1`): a batch whose keys
    /// repeat and whose `add` column mixes both may overflow partway through a key where
    /// its sum does not, so it goes in rounds ([`Addable::sign`](crate::Addable::sign)).
    #[inline]
    fn add_signs(&self) -> u64 {
        0
    }
}

/// The generated statements and layouts that are not public API, all built at compile time
/// by `upsert_core`, and what `verify` needs to rebuild the struct's model.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The statements, declared in `upsert_core::postgres::plan`.
    pub sql: Statements<&'static str>,
    /// The struct's name, for reports.
    pub struct_name: &'static str,
    /// Every field, in order.
    pub fields: &'static [FieldSpec],
    /// The conflict target.
    pub target: ConflictTarget<'static>,
    /// `#[upsert(update_where)]`.
    pub update_where: Option<&'static str>,
    /// `#[upsert(skip_unchanged)]`.
    pub skip_unchanged: bool,
    /// `#[upsert(nulls_not_distinct)]`.
    pub nulls_not_distinct: bool,
    /// The bulk statements for a batch of distinct keys sent in lock order: no fold, no
    /// sort (`None` when the model cannot go presorted).
    pub presorted: Option<PresortedSql>,
    /// The bound columns, in statement order.
    pub stage_columns: &'static [&'static str],
    /// The layout of the bulk statements' counts.
    pub counts: Counts,
    /// What no written row from `UPSERT_SQL` means.
    pub unwritten: Unwritten,
    /// `#[upsert(partitioned)]`: the statements PostgreSQL 18 and later run instead of the
    /// ones above, which work on every version (`upsert_core::InsertFlag`).
    pub returning_old: Option<ReturningOld>,
}

/// A partitioned table's statements that tell inserts from updates with PostgreSQL 18's
/// `RETURNING old` (`upsert_core::InsertFlag::Old`), in place of `UPSERT_SQL`,
/// `UPSERT_MANY_SQL` and the plan's bulk statements.
#[derive(Debug, Clone, Copy)]
pub struct ReturningOld {
    /// In place of `UPSERT_SQL`.
    pub upsert: &'static str,
    /// In place of `UPSERT_MANY_SQL`.
    pub upsert_many: &'static str,
    /// In place of `Plan::sql.stage_upsert_sql`.
    pub stage_upsert: &'static str,
    /// In place of [`Plan::presorted`].
    pub presorted: Option<PresortedSql>,
    /// In place of `Plan::sql.outcomes_sql`.
    pub outcomes: &'static str,
    /// In place of `Plan::sql.stage_outcomes_sql`.
    pub stage_outcomes: &'static str,
}

/// A model's presorted bulk statements (`upsert_core::postgres::bulk::upsert_many_presorted`).
#[derive(Debug, Clone, Copy)]
pub struct PresortedSql {
    /// On the `UNNEST` path.
    pub unnest: &'static str,
    /// Reading the staging table (the `COPY` path).
    pub stage: &'static str,
}

/// One field, as `verify` sees it.
#[derive(Debug, Clone, Copy)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "what the struct says of a field, each a yes/no"
)]
pub struct FieldSpec {
    /// The Rust field name.
    pub field: &'static str,
    /// Its column.
    pub column: &'static str,
    /// Its role.
    pub role: Role,
    /// Declared as `Option<..>`.
    pub optional: bool,
    /// The field's type as written, for messages only: what the rules need of it the
    /// derive read once ([`class`](FieldSpec::class), [`array`](FieldSpec::array),
    /// [`text`](FieldSpec::text)).
    pub rust_type: &'static str,
    /// What the column-type rules know of the type ([`TypeClass::of`]).
    pub class: Option<TypeClass>,
    /// A PostgreSQL array column (`upsert_core::is_array_type`).
    pub array: bool,
    /// A Rust string type (`upsert_core::is_text_type`).
    pub text: bool,
    /// How its values are sent, for fields whose value is sent.
    pub sql: Option<SqlType>,
    /// `#[upsert(sql_type)]`.
    pub cast: Option<&'static str>,
    /// `#[upsert(collate)]`.
    pub collate: Option<&'static str>,
    /// `#[upsert(default = "..")]`: what a `None` inserts.
    pub default: Option<&'static str>,
    /// `#[upsert(update_from = "sent")]`.
    pub sent: bool,
}

/// The SQL side of a sent field's type.
#[derive(Debug, Clone, Copy)]
pub struct SqlType {
    /// The type its values are sent as.
    pub type_info: fn() -> PgTypeInfo,
    /// The type of an array of them (the `UNNEST` path).
    pub array_type_info: fn() -> PgTypeInfo,
    /// sqlx's rule: whether a column of this type can take and give back the field's values
    /// (for an array field: whether an array column of this element type can).
    pub compatible: fn(&PgTypeInfo) -> bool,
}

/// A Rust type that can be bound as a PostgreSQL parameter, alone or as an array (bulk
/// upserts send one array per column).
#[diagnostic::on_unimplemented(
    message = "the field type `{Self}` cannot be sent to PostgreSQL by sqlx",
    label = "this field's type must implement `sqlx::Encode<Postgres>`, `sqlx::Type<Postgres>` and `PgHasArrayType`",
    note = "use a type sqlx encodes (String, i32, i64, f64, bool, Option<T>, Vec<T>, sqlx::types::Json<T>, ...), derive `sqlx::Type` for your own type (which also gives `PgHasArrayType`), or mark the field `#[upsert(skip)]`",
    note = "uuid::Uuid, chrono, time, rust_decimal::Decimal, bigdecimal::BigDecimal, ipnet, ipnetwork, mac_address::MacAddress and bit_vec::BitVec need the atomic-upsert feature of the same name (`uuid`, `chrono`, `time`, `rust_decimal`, `bigdecimal`, `ipnet`, `ipnetwork`, `mac_address`, `bit-vec`), and JSON types the `json` feature (on by default)"
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

    /// Binds one column of a batch as an array (the `UNNEST` path): the generated code
    /// gathers the column (a plain loop, so that a struct adds no iterator code of its own)
    /// and this, generic over the field type only, binds it.
    #[inline]
    fn bind_column<'q>(query: PgQuery<'q>, column: Vec<&'q Self>) -> PgQuery<'q> {
        query.bind(column)
    }

    /// The PostgreSQL type of the column (the `COPY` path's staging table).
    #[inline]
    #[must_use]
    fn type_info() -> PgTypeInfo {
        <Self as sqlx::Type<Postgres>>::type_info()
    }

    /// The PostgreSQL type of an array of the column's values.
    #[inline]
    #[must_use]
    fn array_type_info() -> PgTypeInfo {
        <Self as PgHasArrayType>::array_type_info()
    }

    /// Whether a column of type `ty` can take and give back the field's values (sqlx's rule).
    #[inline]
    #[must_use]
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Self as sqlx::Type<Postgres>>::compatible(ty)
    }

    /// Appends the value to a binary `COPY` row.
    #[inline]
    fn copy_into(&self, out: &mut CopyBuffer) -> Result<(), BoxDynError> {
        out.field(self)
    }
}

impl<T: Column> ColumnOps for T {}

/// A PostgreSQL array column: `Vec<E>` or `Option<Vec<E>>` of an element type `E` that is a
/// [`Column`]. The derive treats a field as one when its type is written `Vec<..>` or
/// `Option<Vec<..>>` (but not `Vec<u8>`, which is `bytea`).
#[diagnostic::on_unimplemented(
    message = "the array field type `{Self}` cannot be sent to PostgreSQL by sqlx",
    label = "array fields must be `Vec<E>` or `Option<Vec<E>>` with an element type `E` that sqlx can send in an array (`E: Encode + Type + PgHasArrayType`)",
    note = "PostgreSQL arrays of arrays (`Vec<Vec<T>>`) are multi-dimensional arrays, which sqlx does not encode; store them as jsonb (`sqlx::types::Json<Vec<Vec<T>>>`)"
)]
pub trait ArrayColumn:
    for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + Sync
{
    /// The element type.
    type Element: Column;

    /// The elements, or `None` for a NULL array.
    fn elements(&self) -> Option<&[Self::Element]>;
}

impl<E: Column> ArrayColumn for Vec<E>
where
    Vec<E>: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
{
    type Element = E;

    fn elements(&self) -> Option<&[E]> {
        Some(self)
    }
}

impl<E: Column> ArrayColumn for Option<Vec<E>>
where
    Option<Vec<E>>: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
{
    type Element = E;

    fn elements(&self) -> Option<&[E]> {
        self.as_deref()
    }
}

/// [`ColumnOps`] for array fields. On the `UNNEST` path a batch's arrays cannot be one
/// parameter (PostgreSQL has no arrays of arrays of varying length), so they go as three:
/// each row's NULL flag, the flat array of every row's elements, and each element's row;
/// the statement rebuilds the rows' arrays with one hash aggregate.
pub trait ArrayOps: ArrayColumn + Sized {
    /// Binds one field of one row.
    #[inline]
    fn bind<'q>(query: PgQuery<'q>, value: &'q Self) -> PgQuery<'q> {
        query.bind(value)
    }

    /// Binds one column of a batch: the rows' NULL flags, the flat elements, and each
    /// element's row (1-based, the batch ordinal).
    fn bind_column<'q>(query: PgQuery<'q>, column: Vec<&'q Self>) -> PgQuery<'q> {
        let mut nulls = Vec::with_capacity(column.len());
        let mut flat: Vec<&Self::Element> = Vec::new();
        let mut owners: Vec<i64> = Vec::new();
        for (ord, value) in (1_i64..).zip(column) {
            let elements = value.elements();
            nulls.push(elements.is_none());
            for element in elements.unwrap_or_default() {
                flat.push(element);
                owners.push(ord);
            }
        }
        query.bind(nulls).bind(flat).bind(owners)
    }

    /// The PostgreSQL type of the column (an array type).
    #[inline]
    #[must_use]
    fn type_info() -> PgTypeInfo {
        <Self as sqlx::Type<Postgres>>::type_info()
    }

    /// The type of the flat array of elements: the column's own array type.
    #[inline]
    #[must_use]
    fn array_type_info() -> PgTypeInfo {
        <Self as sqlx::Type<Postgres>>::type_info()
    }

    /// Whether an array column whose *element* type is `ty` can take and give back the
    /// field's elements (sqlx's rule for the element type). `verify` asks by element,
    /// because sqlx can only compare array types it has resolved on a connection.
    #[inline]
    #[must_use]
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Self::Element as sqlx::Type<Postgres>>::compatible(ty)
    }

    /// Appends the value to a binary `COPY` row.
    #[inline]
    fn copy_into(&self, out: &mut CopyBuffer) -> Result<(), BoxDynError> {
        out.field(self)
    }
}

impl<T: ArrayColumn> ArrayOps for T {}

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
        // A fresh buffer, not only its bytes: sqlx's encoders leave deferred work in it (a
        // JSON value registers a patch for its version byte, whatever the column turns out
        // to be), which would otherwise pile up chunk after chunk, one per value.
        let mut old = std::mem::take(&mut self.buf);
        let bytes = std::mem::take(&mut *old);
        self.buf.reserve(bytes.capacity());
        bytes
    }

    /// Appends one field: its length, then sqlx's binary encoding (the same bytes sqlx
    /// sends as a bound parameter), or length -1 for NULL.
    pub fn field<T: for<'q> sqlx::Encode<'q, Postgres>>(
        &mut self,
        value: &T,
    ) -> Result<(), BoxDynError> {
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

/// A field type read back by `upsert_returning`. No supertraits: as a bound in the
/// derive's `where` clause it must mention `'r`, so that a field that cannot be decoded
/// makes the impl inapplicable instead of a compile error at the derive.
pub trait Decode<'r>: Sized {
    /// Reads column `index` of a returned row.
    fn read(row: &'r PgRow, index: usize) -> Result<Self, sqlx::Error>;
}

impl<'r, T> Decode<'r> for T
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    #[inline]
    fn read(row: &'r PgRow, index: usize) -> Result<Self, sqlx::Error> {
        sqlx::Row::try_get(row, index)
    }
}

/// Reads column `index` of a returned row.
#[inline]
pub fn read<'r, T: Decode<'r>>(row: &'r PgRow, index: usize) -> Result<T, sqlx::Error> {
    T::read(row, index)
}

/// The derived struct, read back from `UPSERT_RETURNING_SQL`'s row.
#[diagnostic::on_unimplemented(
    message = "`upsert_returning` cannot read a `{Self}` back from PostgreSQL",
    label = "every field of `{Self}` must be an owned type that sqlx can decode",
    note = "borrowed fields (`&'a str`) cannot be read back (a `()` placeholder reads back as `()`); use owned types (`String`, ...) or call `upsert`, which returns only the outcome"
)]
pub trait FromStored<'r>: Sized {
    /// Builds the struct from the returned row.
    fn from_stored(row: &'r PgRow) -> Result<Self, sqlx::Error>;
}
