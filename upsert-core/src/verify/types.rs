//! The column-type rule of the common scalar types: which columns a field's Rust type
//! fits, what a column holds and gives back, and the field type a column reads into.

use crate::dialect::Dialect;
use crate::role::{Role, Update};
use crate::schema::ColumnInfo;

use super::class::{TypeClass, compatible_columns};
use super::fixes::alter_column;
use super::mismatch::{FieldFacts, Kind, Mismatch, Site};

/// Whether a column holds every value of the common scalar `rust_type` and gives it back
/// exactly (through the cast `upsert_returning` reads it with, [`returning_cast`]): the
/// field's own type, a wider one (`i32` into `int8`, `f32` into `float8`), a string column
/// long enough for its text (`bool` into `text`). `None` for the types whose columns are
/// not fixed ([`compatible_columns`]); sqlx decides those.
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::{TypeClass, holds_every_value};
/// let int8 = ColumnInfo::new("n", "bigint", "int8", 20, 'N');
/// let int4 = ColumnInfo::new("n", "integer", "int4", 23, 'N');
/// assert_eq!(holds_every_value(TypeClass::Int4, &int8), Some(true));
/// assert_eq!(holds_every_value(TypeClass::Int8, &int4), Some(false));
/// assert_eq!(holds_every_value(TypeClass::Uuid, &int4), None);
/// ```
#[must_use]
pub fn holds_every_value(class: TypeClass, column: &ColumnInfo) -> Option<bool> {
    let (columns, text_len) = scalar_columns(class)?;
    let base = column.base_type.as_str();
    if columns.0.contains(&base) {
        return Some(true);
    }
    let text = matches!(base, "text" | "varchar" | "citext");
    Some(text && text_len.is_some_and(|len| varchar_length(column).is_none_or(|n| n >= len)))
}

/// Whether the common scalar `rust_type` holds every value a column of this type can store
/// (a value another writer stored, which a column the statement keeps gives back): `i64`
/// for `int4`, not `i32` for `int8`. `None` for the types [`holds_every_value`] leaves to
/// sqlx.
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::{TypeClass, fits_every_value};
/// let int4 = ColumnInfo::new("n", "integer", "int4", 23, 'N');
/// let int8 = ColumnInfo::new("n", "bigint", "int8", 20, 'N');
/// assert_eq!(fits_every_value(TypeClass::Int8, &int4), Some(true));
/// assert_eq!(fits_every_value(TypeClass::Int4, &int8), Some(false));
/// ```
#[must_use]
pub fn fits_every_value(class: TypeClass, column: &ColumnInfo) -> Option<bool> {
    let (columns, _) = scalar_columns(class)?;
    Some(columns.1.contains(&column.base_type.as_str()))
}

/// For a common scalar type: (the column types that hold its values exactly, the column
/// types all of whose values it holds), and the longest text of a value (for a string
/// column of limited length; `None`: it has no text form there).
#[allow(clippy::type_complexity, reason = "a private table")]
pub(super) fn scalar_columns(
    class: TypeClass,
) -> Option<(
    (&'static [&'static str], &'static [&'static str]),
    Option<u32>,
)> {
    const TEXT: &[&str] = &["text", "varchar", "bpchar", "name", "citext"];
    Some(match class {
        TypeClass::Bool => ((&["bool"], &["bool"]), Some(5)),
        TypeClass::Int2 => (
            (
                &["int2", "int4", "int8", "numeric", "float4", "float8"],
                &["int2"],
            ),
            Some(6),
        ),
        TypeClass::Int4 => (
            (&["int4", "int8", "numeric", "float8"], &["int2", "int4"]),
            Some(11),
        ),
        TypeClass::Int8 => ((&["int8", "numeric"], &["int2", "int4", "int8"]), Some(20)),
        TypeClass::Float4 => ((&["float4", "float8"], &["float4"]), Some(15)),
        TypeClass::Float8 => ((&["float8"], &["float4", "float8"]), Some(24)),
        TypeClass::Text => ((TEXT, TEXT), None),
        // Its text (`\x0102`) has no bound on its length.
        TypeClass::Bytea => ((&["bytea"], &["bytea"]), Some(u32::MAX)),
        TypeClass::Json => ((&["jsonb", "json"], &["jsonb", "json"]), None),
        _ => return None,
    })
}

/// The `n` of `character varying(n)`.
pub(super) fn varchar_length(column: &ColumnInfo) -> Option<u32> {
    let (_, rest) = column.type_name.split_once('(')?;
    rest.strip_suffix(')')?.parse().ok()
}

/// The type rule of a sent field whose Rust type is a common scalar: the column must hold
/// every value it sends, and where the statement may give back a stored value (a column it
/// keeps or combines), the field must hold every value of the column.
pub(super) fn scalar_type_rule(
    dialect: &dyn Dialect,
    table: &str,
    index: usize,
    field: &FieldFacts,
    rust_type: &str,
    update: Update,
    column: &ColumnInfo,
) -> Option<Mismatch> {
    let mut holds = holds_every_value(field.class?, column)?;
    if matches!(update, Update::Combine(_)) || field.role == Role::Version {
        // A strategy or a version compares or adds the value with the stored one: on its
        // text, `9` is greater than `10`.
        holds &= column.category != 'S' || field.text;
    }
    let reads_stored = matches!(
        update,
        Update::Keep | Update::ReplaceIfSent | Update::Combine(_)
    );
    if holds && (!reads_stored || fits_every_value(field.class?, column) == Some(true)) {
        return None;
    }
    let mut mismatch = column_type_mismatch(dialect, table, index, field, rust_type, column);
    if holds {
        mismatch.needs = format!(
            "a field type that holds every value of the column: the statement {} the stored value, so upsert_returning can read back one another writer stored",
            if matches!(update, Update::Keep | Update::ReplaceIfSent) {
                "keeps"
            } else {
                "combines"
            }
        );
    }
    Some(mismatch)
}

/// The SQL type a returned column is cast to for a field written `rust_type`: the fixed
/// type of the common scalar types ([`compatible_columns`]' first), none for JSON (a cast
/// would turn `json` into `jsonb`) or for any other type.
///
/// ```
/// use upsert_core::verify::returning_cast;
/// assert_eq!(returning_cast("Option<i64>"), Some("int8"));
/// assert_eq!(returning_cast("Json<Value>"), None);
/// assert_eq!(returning_cast("MyEnum"), None);
/// ```
#[must_use]
pub fn returning_cast(rust_type: &str) -> Option<&'static str> {
    compatible_columns(rust_type)?
        .first()
        .copied()
        .filter(|t| !matches!(*t, "json" | "jsonb" | "char"))
}

/// The mismatch of a field whose Rust type `rust_type` (sent as `sent_as`) cannot go to and
/// come back from `column` (the runtime asks sqlx; the derive reads [`compatible_columns`]).
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::{FieldFacts, column_type_mismatch};
/// use upsert_core::{Postgres, Role};
///
/// let f = FieldFacts { field: "score", column: "score", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, class: None, default: None, sent: false };
/// let m = column_type_mismatch(&Postgres, "\"t\"", 1, &f, "i64", &ColumnInfo::new("score", "text", "text", 25, 'S'));
/// assert_eq!(m.fix, "make the field `String` (the column's type)");
/// let int4 = ColumnInfo::new("score", "integer", "int4", 23, 'N');
/// let m = column_type_mismatch(&Postgres, "\"t\"", 1, &f, "i64", &int4);
/// assert_eq!(m.fix, r#"make the field `i32` (the column's type); or, if the column is what is wrong, ALTER TABLE "t" ALTER COLUMN "score" TYPE int8;"#);
/// ```
#[must_use]
pub fn column_type_mismatch(
    dialect: &dyn Dialect,
    table: &str,
    index: usize,
    field: &FieldFacts,
    rust_type: &str,
    column: &ColumnInfo,
) -> Mismatch {
    let sent_as = field.sql_type.map(str::to_lowercase);
    let sent_as = sent_as.as_deref().unwrap_or("its SQL type");
    let field_type = rust_type_for(column).map_or_else(
        || format!("make the field a type sqlx reads from {}", column.type_name),
        |ty| format!("make the field `{ty}` (the column's type)"),
    );
    // The schema second, and only where the new column type loses no stored value.
    let widens = rust_type_for(column)
        .and_then(TypeClass::of)
        .and_then(scalar_columns)
        .is_some_and(|((holds, _), _)| holds.contains(&sent_as));
    let fix = if widens {
        format!(
            "{field_type}; or, if the column is what is wrong, {}",
            alter_column(dialect, table, field.column, &format!("TYPE {sent_as}"))
        )
    } else {
        field_type
    };
    Mismatch {
        kind: Kind::ColumnType,
        site: Site::Field(index),
        field: Some(field.field.to_owned()),
        column: Some(field.column.to_owned()),
        needs: format!(
            "a column that holds every `{rust_type}` value and gives it back (sent as {sent_as})"
        ),
        has: column.type_name.clone(),
        fix,
    }
}

/// The Rust type a column of this type reads into, for the fix that changes the field:
/// `bigint` gives `i64`. `None` for a type with no one answer (an enum, a domain over one).
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::rust_type_for;
/// assert_eq!(rust_type_for(&ColumnInfo::new("n", "bigint", "int8", 20, 'N')), Some("i64"));
/// assert_eq!(rust_type_for(&ColumnInfo::new("n", "text[]", "_text", 1009, 'A')), Some("Vec<String>"));
/// ```
#[must_use]
pub fn rust_type_for(column: &ColumnInfo) -> Option<&'static str> {
    Some(match column.base_type.as_str() {
        "bool" => "bool",
        "int2" => "i16",
        "int4" => "i32",
        "int8" => "i64",
        "float4" => "f32",
        "float8" => "f64",
        "numeric" => "Decimal",
        "text" | "varchar" | "bpchar" | "name" | "citext" => "String",
        "bytea" => "Vec<u8>",
        "json" | "jsonb" => "Json<T>",
        "uuid" => "Uuid",
        "date" => "NaiveDate",
        "time" => "NaiveTime",
        "timestamp" => "NaiveDateTime",
        "timestamptz" => "DateTime<Utc>",
        "inet" | "cidr" => "IpNetwork",
        "macaddr" => "MacAddress",
        "bit" | "varbit" => "BitVec",
        "_int2" => "Vec<i16>",
        "_int4" => "Vec<i32>",
        "_int8" => "Vec<i64>",
        "_text" | "_varchar" => "Vec<String>",
        "_bool" => "Vec<bool>",
        "_float8" => "Vec<f64>",
        "_uuid" => "Vec<Uuid>",
        _ => return None,
    })
}
