//! The MySQL column a field type goes to, by its [`TypeClass`]: what `verify` suggests when
//! a column's type does not fit the field, and the README's MySQL type table.

use crate::verify::TypeClass;

/// The MySQL column type sqlx's MySQL driver writes and reads a field of class `class` as,
/// or `None` for a class sqlx has no MySQL form of (network and bit-string types).
///
/// ```
/// use upsert_core::mysql::column_for;
/// use upsert_core::verify::TypeClass;
/// assert_eq!(column_for(TypeClass::Int8), Some("bigint"));
/// assert_eq!(column_for(TypeClass::of("String").unwrap()), Some("varchar(255)"));
/// assert_eq!(column_for(TypeClass::Inet), None);
/// ```
#[must_use]
pub fn column_for(class: TypeClass) -> Option<&'static str> {
    Some(match class {
        TypeClass::Bool => "boolean",
        TypeClass::Char => "tinyint",
        TypeClass::Int2 => "smallint",
        TypeClass::Int4 => "int",
        TypeClass::Int8 => "bigint",
        TypeClass::Float4 => "float",
        TypeClass::Float8 => "double",
        TypeClass::Text => "varchar(255)",
        TypeClass::Bytea => "varbinary(255)",
        TypeClass::Json => "json",
        TypeClass::Uuid => "binary(16)",
        TypeClass::Date => "date",
        TypeClass::Time => "time",
        TypeClass::Timestamp => "datetime(6)",
        TypeClass::Timestamptz => "timestamp(6)",
        TypeClass::Numeric => "decimal(65, 30)",
        _ => return None,
    })
}
