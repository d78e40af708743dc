//! A field type's class ([`TypeClass`]): what the column-type rules know of a Rust type,
//! read once from its text (the derive's job), and the columns sqlx accepts for it.

/// The column base types sqlx accepts for a field type written as `rust_type` (as the
/// derive prints it: `i64`, `Option<String>`, `&'a str`, `Json<Value>`), for the common
/// types whose rule is fixed; `None` for any other type, whose rule only the runtime can
/// ask sqlx (`verify`). Mirrors sqlx's `Type::compatible` for these types.
///
/// ```
/// use upsert_core::verify::compatible_columns;
/// assert!(compatible_columns("Option<i64>").unwrap().contains(&"int8"));
/// assert!(!compatible_columns("i64").unwrap().contains(&"text"));
/// assert!(compatible_columns("MyEnum").is_none());
/// assert_eq!(compatible_columns("sqlx::types::Json<serde_json::Value>"), Some(&["jsonb", "json"][..]));
/// assert!(compatible_columns("&'a str").unwrap().contains(&"text"));
/// ```
#[must_use]
pub fn compatible_columns(rust_type: &str) -> Option<&'static [&'static str]> {
    common_class(rust_type).map(TypeClass::columns)
}

/// The class of a common scalar type written `rust_type` ([`compatible_columns`]).
fn common_class(rust_type: &str) -> Option<TypeClass> {
    let mut ty = rust_type.trim();
    while let Some(inner) = ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
        ty = inner.trim();
    }
    let (head, rest) = ty.split_at(ty.find('<').unwrap_or(ty.len()));
    let ty = format!("{}{rest}", head.rsplit("::").next().unwrap_or(head));
    let ty = ty.as_str();
    Some(match ty {
        "bool" => TypeClass::Bool,
        "i8" => TypeClass::Char,
        "i16" => TypeClass::Int2,
        "i32" => TypeClass::Int4,
        "i64" => TypeClass::Int8,
        "f32" => TypeClass::Float4,
        "f64" => TypeClass::Float8,
        "String" | "str" => TypeClass::Text,
        "Vec<u8>" | "[u8]" => TypeClass::Bytea,
        "Value" | "JsonValue" => TypeClass::Json,
        _ if ty.starts_with('&') => {
            let inner = ty.trim_start_matches('&');
            let inner = inner
                .strip_prefix('\'')
                .map_or(inner, |rest| rest.split_once(' ').map_or(rest, |(_, t)| t));
            return common_class(inner);
        }
        _ if ty.starts_with("Json<") => TypeClass::Json,
        _ => return None,
    })
}

/// What the column-type rules know of a field's Rust type: the class of a common scalar
/// type ([`compatible_columns`]) or of a feature type ([`feature_columns`]). The derive
/// reads it once from the type's text ([`TypeClass::of`]) and generates it into the
/// struct's plan, so that `verify` at run time never reads type text.
///
/// ```
/// use upsert_core::verify::TypeClass;
/// assert_eq!(TypeClass::of("Option<i64>"), Some(TypeClass::Int8));
/// assert_eq!(TypeClass::of("chrono::NaiveDate").map(TypeClass::columns), Some(&["date"][..]));
/// assert!(TypeClass::Uuid.needs_feature());
/// assert_eq!(TypeClass::of("MyEnum"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeClass {
    /// `bool`.
    Bool,
    /// `i8` (PostgreSQL's `"char"`).
    Char,
    /// `i16`.
    Int2,
    /// `i32`.
    Int4,
    /// `i64`.
    Int8,
    /// `f32`.
    Float4,
    /// `f64`.
    Float8,
    /// `String`, `&str`.
    Text,
    /// `Vec<u8>`, `&[u8]`.
    Bytea,
    /// `serde_json::Value`, `Json<T>`.
    Json,
    /// `uuid::Uuid`.
    Uuid,
    /// `NaiveDate`, `time::Date`.
    Date,
    /// `NaiveTime`, `time::Time`.
    Time,
    /// `NaiveDateTime`, `PrimitiveDateTime`.
    Timestamp,
    /// `DateTime<Tz>`, `OffsetDateTime`.
    Timestamptz,
    /// `Decimal`, `BigDecimal`.
    Numeric,
    /// `IpNet`, `IpNetwork`.
    Inet,
    /// `MacAddress`.
    Macaddr,
    /// `BitVec`.
    Bit,
}

impl TypeClass {
    /// The class of a field type written `rust_type` (as the derive prints it), if the
    /// rules know it.
    #[must_use]
    pub fn of(rust_type: &str) -> Option<Self> {
        common_class(rust_type).or_else(|| feature_class(rust_type))
    }

    /// The column base types sqlx accepts for the class ([`compatible_columns`],
    /// [`feature_columns`]).
    #[must_use]
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            TypeClass::Bool => &["bool"],
            TypeClass::Char => &["char"],
            TypeClass::Int2 => &["int2"],
            TypeClass::Int4 => &["int4"],
            TypeClass::Int8 => &["int8"],
            TypeClass::Float4 => &["float4"],
            TypeClass::Float8 => &["float8"],
            TypeClass::Text => &["text", "varchar", "bpchar", "name", "citext", "unknown"],
            TypeClass::Bytea => &["bytea"],
            TypeClass::Json => &["jsonb", "json"],
            TypeClass::Uuid => &["uuid"],
            TypeClass::Date => &["date"],
            TypeClass::Time => &["time"],
            TypeClass::Timestamp => &["timestamp"],
            TypeClass::Timestamptz => &["timestamptz"],
            TypeClass::Numeric => &["numeric"],
            TypeClass::Inet => &["inet", "cidr"],
            TypeClass::Macaddr => &["macaddr"],
            TypeClass::Bit => &["bit", "varbit"],
        }
    }

    /// A type sqlx supports only behind a feature (`uuid`, `chrono`, ..): exactly sqlx's
    /// rule applies, since no cast is applied to it.
    #[must_use]
    pub fn needs_feature(self) -> bool {
        matches!(
            self,
            TypeClass::Uuid
                | TypeClass::Date
                | TypeClass::Time
                | TypeClass::Timestamp
                | TypeClass::Timestamptz
                | TypeClass::Numeric
                | TypeClass::Inet
                | TypeClass::Macaddr
                | TypeClass::Bit
        )
    }
}

/// The column base types sqlx reads a field of one of the feature types (`uuid`, `chrono`,
/// `time`, `rust_decimal`, `bigdecimal`, `ipnet`, `ipnetwork`, `mac_address`, `bit-vec`) from,
/// by the type's last path segment as written; exactly sqlx's rule, since no cast is applied
/// to them. `None` for any other type (arrays included: sqlx decides those).
///
/// ```
/// use upsert_core::verify::feature_columns;
/// assert_eq!(feature_columns("Option<chrono::NaiveDateTime>"), Some(&["timestamp"][..]));
/// assert_eq!(feature_columns("DateTime<Utc>"), Some(&["timestamptz"][..]));
/// assert_eq!(feature_columns("Vec<Uuid>"), None);
/// ```
#[must_use]
pub fn feature_columns(rust_type: &str) -> Option<&'static [&'static str]> {
    feature_class(rust_type).map(TypeClass::columns)
}

/// The class of a feature type written `rust_type` ([`feature_columns`]).
fn feature_class(rust_type: &str) -> Option<TypeClass> {
    let mut ty = rust_type.trim();
    while let Some(inner) = ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
        ty = inner.trim();
    }
    let ty = ty.replace(' ', "");
    let (head, rest) = ty.split_at(ty.find('<').unwrap_or(ty.len()));
    let name = head.rsplit("::").next().unwrap_or(head);
    Some(match (name, rest) {
        ("Uuid", "") => TypeClass::Uuid,
        ("NaiveDate" | "Date", "") => TypeClass::Date,
        ("NaiveTime" | "Time", "") => TypeClass::Time,
        ("NaiveDateTime" | "PrimitiveDateTime", "") => TypeClass::Timestamp,
        ("DateTime", _) | ("OffsetDateTime", "") => TypeClass::Timestamptz,
        ("Decimal" | "BigDecimal", "") => TypeClass::Numeric,
        ("IpNet" | "IpNetwork", "") => TypeClass::Inet,
        ("MacAddress", "") => TypeClass::Macaddr,
        ("BitVec", "") => TypeClass::Bit,
        _ => return None,
    })
}
