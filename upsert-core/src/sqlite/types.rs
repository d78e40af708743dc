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
    Affinity::of(rust_type).map(Affinity::accepted)
}

/// The affinity a field's values need on SQLite, for the types whose storage class is
/// fixed ([`affinities`]). The derive reads it once from the type's text
/// ([`Affinity::of`]) and generates it into the struct's SQLite plan, so that `verify` at
/// run time never reads type text.
///
/// ```
/// use upsert_core::sqlite::types::Affinity;
/// assert_eq!(Affinity::of("u32"), Some(Affinity::Integer));
/// assert_eq!(Affinity::Text.accepted(), &["TEXT", "BLOB"]);
/// assert_eq!(Affinity::of("Json<Value>"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Affinity {
    /// Integers and `bool`.
    Integer,
    /// `f32`, `f64`.
    Real,
    /// Strings.
    Text,
}

impl Affinity {
    /// The affinity of a field type written `rust_type` (as the derive prints it), if fixed.
    #[must_use]
    pub fn of(rust_type: &str) -> Option<Self> {
        let ty = rust_type.replace(' ', "");
        let ty = ty
            .strip_prefix("Option<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(&ty);
        let ty = ty.rsplit("::").next().unwrap_or(ty);
        Some(match ty {
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "bool" => {
                Affinity::Integer
            }
            "f32" | "f64" => Affinity::Real,
            "String" | "str" | "Box<str>" | "Arc<str>" => Affinity::Text,
            _ if ty.starts_with("&'") && ty.ends_with("str") => Affinity::Text,
            _ => return None,
        })
    }

    /// The column affinities that store the field's values unchanged, the wanted one first.
    #[must_use]
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Affinity::Integer => &["INTEGER", "NUMERIC", "BLOB"],
            Affinity::Real => &["REAL", "NUMERIC", "BLOB"],
            Affinity::Text => &["TEXT", "BLOB"],
        }
    }
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
