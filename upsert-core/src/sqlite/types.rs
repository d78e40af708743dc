//! SQLite's type rules: which column affinities hold a field's values.

/// The SQLite column affinities a field of `rust_type` (as the derive prints it) can be
/// stored in and read back from unchanged, for the types whose storage class is fixed; `None`
/// for others. An affinity converts what it is given (`'42'` into an `INTEGER` column
/// becomes `42`, `5` into a `TEXT` column becomes `'5'`), and the value no longer reads back
/// into the field. `BLOB` affinity (a column declared without a type) converts nothing.
///
/// ```
/// use upsert_core::sqlite::types::affinities;
/// assert_eq!(affinities("Option<i64>"), Some(&["INTEGER", "NUMERIC", "BLOB"][..]));
/// assert_eq!(affinities("String"), Some(&["TEXT", "BLOB"][..]));
/// assert_eq!(affinities("Json<Value>"), None);
/// ```
#[must_use]
pub fn affinities(rust_type: &str) -> Option<&'static [&'static str]> {
    let ty = rust_type.replace(' ', "");
    let ty = ty
        .strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(&ty);
    let ty = ty.rsplit("::").next().unwrap_or(ty);
    Some(match ty {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "bool" => {
            &["INTEGER", "NUMERIC", "BLOB"]
        }
        "f32" | "f64" => &["REAL", "NUMERIC", "BLOB"],
        "String" | "str" | "Box<str>" | "Arc<str>" => &["TEXT", "BLOB"],
        _ if ty.starts_with("&'") && ty.ends_with("str") => &["TEXT", "BLOB"],
        _ => return None,
    })
}

/// The affinity SQLite gives a column declared with type `declared`, by its rules in order
/// (<https://www.sqlite.org/datatype3.html>, 3.1).
///
/// ```
/// use upsert_core::sqlite::types::declared_affinity;
/// assert_eq!(declared_affinity("BIGINT"), "INTEGER");
/// assert_eq!(declared_affinity("varchar(20)"), "TEXT");
/// assert_eq!(declared_affinity(""), "BLOB");
/// assert_eq!(declared_affinity("DOUBLE PRECISION"), "REAL");
/// assert_eq!(declared_affinity("DECIMAL(10,2)"), "NUMERIC");
/// ```
#[must_use]
pub fn declared_affinity(declared: &str) -> &'static str {
    let declared = declared.to_ascii_uppercase();
    if declared.contains("INT") {
        "INTEGER"
    } else if ["CHAR", "CLOB", "TEXT"]
        .iter()
        .any(|t| declared.contains(t))
    {
        "TEXT"
    } else if declared.contains("BLOB") || declared.trim().is_empty() {
        "BLOB"
    } else if ["REAL", "FLOA", "DOUB"]
        .iter()
        .any(|t| declared.contains(t))
    {
        "REAL"
    } else {
        "NUMERIC"
    }
}
