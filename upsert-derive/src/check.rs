//! Rules across attributes and fields, checked after parsing; every violation is recorded.

use std::collections::HashMap;

use syn::{DeriveInput, GenericParam};
use upsert_core::Role;

use crate::ast::Container;
use crate::attr::role_name;
use crate::ctxt::Ctxt;

pub fn check(cx: &mut Ctxt, input: &DeriveInput, container: &Container) {
    check_generics(cx, input);
    check_flags(cx, container);
    check_key_present(cx, container);
    check_columns_unique(cx, container);
    check_truncation(cx, container);
    check_inputs(cx, container);
    check_guards(cx, container);
    check_features(cx, container);
}

/// The column types sqlx has only behind a feature, by the last segment of their path, with
/// atomic-upsert's feature of the same name.
const GATED_TYPES: &[(&str, &str)] = &[
    ("Uuid", "uuid"),
    ("DateTime", "chrono"),
    ("NaiveDateTime", "chrono"),
    ("NaiveDate", "chrono"),
    ("NaiveTime", "chrono"),
    ("OffsetDateTime", "time"),
    ("PrimitiveDateTime", "time"),
    ("Decimal", "rust_decimal"),
    ("BigDecimal", "bigdecimal"),
    ("IpNet", "ipnet"),
    ("Ipv4Net", "ipnet"),
    ("Ipv6Net", "ipnet"),
    ("IpNetwork", "ipnetwork"),
    ("Ipv4Network", "ipnetwork"),
    ("Ipv6Network", "ipnetwork"),
    ("MacAddress", "mac_address"),
    ("BitVec", "bit-vec"),
    ("Json", "json"),
    ("JsonValue", "json"),
];

/// The `time` crate's types whose names are too common to claim bare (`Date`, `Time`): only
/// as `time::Date` or `sqlx::types::time::Date`.
const TIME_TYPES: &[(&str, &str)] = &[("Date", "time"), ("Time", "time"), ("UtcOffset", "time")];

/// Atomic-upsert's column-type features and whether this build has each (the facade turns on
/// the derive's feature of the same name with its own).
const FEATURES: &[(&str, bool)] = &[
    ("uuid", cfg!(feature = "uuid")),
    ("chrono", cfg!(feature = "chrono")),
    ("time", cfg!(feature = "time")),
    ("rust_decimal", cfg!(feature = "rust_decimal")),
    ("bigdecimal", cfg!(feature = "bigdecimal")),
    ("ipnet", cfg!(feature = "ipnet")),
    ("ipnetwork", cfg!(feature = "ipnetwork")),
    ("mac_address", cfg!(feature = "mac_address")),
    ("bit-vec", cfg!(feature = "bit-vec")),
    ("json", cfg!(feature = "json")),
];

/// Whether this build has the column-type `feature`.
fn feature_on(feature: &str) -> bool {
    FEATURES.iter().any(|(name, on)| *name == feature && *on)
}

/// The path segments a feature's type is reached through: the crates themselves and sqlx's
/// re-exports (`atomic_upsert::sqlx::types::chrono::DateTime`). A name under any other path
/// (`crate::ids::Uuid`, `money::Decimal`) is the user's own type, which the rule leaves alone.
const GATED_PATHS: &[&str] = &[
    "atomic_upsert",
    "sqlx",
    "types",
    "uuid",
    "chrono",
    "time",
    "rust_decimal",
    "bigdecimal",
    "ipnet",
    "ipnetwork",
    "mac_address",
    "bit_vec",
    "serde_json",
    "json",
];

/// A sent field whose type names one that sqlx has only behind an atomic-upsert feature
/// that is off (`Uuid`, the `DateTime<Utc>` of `Option<DateTime<Utc>>`): one error, at that
/// type, naming the feature and its Cargo line. Left to the compiler, the same mistake is
/// three to six trait errors per field, the feature's name nowhere among them.
fn check_features(cx: &mut Ctxt, container: &Container) {
    for field in container.fields.iter().filter(|f| f.role.is_bound()) {
        if let Some((path, feature)) = missing_feature(field.ty) {
            let name = path
                .segments
                .last()
                .map(|last| last.ident.to_string())
                .unwrap_or_default();
            cx.error_spanned_by(
                path,
                format!(
                    "the field type `{name}` needs the `{feature}` feature of atomic-upsert, \
                     which is off: in Cargo.toml, \
                     atomic-upsert = {{ version = \"0.1\", features = [\"{feature}\"] }} \
                     (a type of your own named `{name}`: write it with its path, `crate::..`)"
                ),
            );
        }
    }
}

/// The first type in `ty` that needs a feature this build lacks, with that feature.
fn missing_feature(ty: &syn::Type) -> Option<(&syn::Path, &'static str)> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            let segments = &path.path.segments;
            let on_gated_path = segments
                .iter()
                .take(segments.len().saturating_sub(1))
                .all(|segment| GATED_PATHS.iter().any(|name| segment.ident == name));
            // `time::Date`, `time::Time`: names too common to claim without their path.
            let under_time = segments.len() > 1 && segments[segments.len() - 2].ident == "time";
            let gate = segments.last().and_then(|last| {
                GATED_TYPES
                    .iter()
                    .find(|(name, _)| last.ident == name)
                    .or_else(|| {
                        TIME_TYPES
                            .iter()
                            .find(|(name, _)| under_time && last.ident == name)
                    })
            });
            match gate {
                Some((_, feature)) if on_gated_path && !feature_on(feature) => {
                    Some((&path.path, feature))
                }
                _ => segments
                    .iter()
                    .find_map(|segment| match &segment.arguments {
                        syn::PathArguments::AngleBracketed(args) => {
                            args.args.iter().find_map(|arg| match arg {
                                syn::GenericArgument::Type(ty) => missing_feature(ty),
                                _ => None,
                            })
                        }
                        _ => None,
                    }),
            }
        }
        syn::Type::Reference(inner) => missing_feature(&inner.elem),
        syn::Type::Slice(inner) => missing_feature(&inner.elem),
        syn::Type::Array(inner) => missing_feature(&inner.elem),
        syn::Type::Paren(inner) => missing_feature(&inner.elem),
        syn::Type::Group(inner) => missing_feature(&inner.elem),
        syn::Type::Tuple(tuple) => tuple.elems.iter().find_map(missing_feature),
        _ => None,
    }
}

/// `sql_type` and `collate` convert values a batch sends: a field whose value is not sent
/// has none to convert.
fn check_inputs(cx: &mut Ctxt, container: &Container) {
    for field in &container.fields {
        if field.role.is_bound() {
            continue;
        }
        for span in [field.attrs.sql_type.span(), field.attrs.collate.span()]
            .into_iter()
            .flatten()
        {
            cx.syn_error(syn::Error::new(
                span,
                format!(
                    "`{}` is never sent (it is `#[upsert({})]`), so there is nothing to convert; \
                     remove `sql_type`/`collate`",
                    field.name,
                    role_name(field.role)
                ),
            ));
        }
    }
}

/// Two columns that PostgreSQL would truncate to the same 63 bytes are one column to it.
fn check_truncation(cx: &mut Ctxt, container: &Container) {
    let fields: Vec<&crate::ast::Field> = container
        .fields
        .iter()
        .filter(|field| field.role != Role::Skip)
        .collect();
    let columns: Vec<&str> = fields.iter().map(|field| field.column.as_str()).collect();
    for (first, second) in upsert_core::verify::truncation_clashes(&columns) {
        let (first, second) = (fields[first], fields[second]);
        cx.syn_error(syn::Error::new(
            second.column_span(),
            format!(
                "column `{}` is the same column as `{}` (field `{}`) to PostgreSQL, which \
                 truncates identifiers to {} bytes: both become `{}`; rename one with \
                 `#[upsert(rename = \"..\")]`",
                second.column,
                first.column,
                first.name,
                upsert_core::verify::MAX_IDENTIFIER_BYTES,
                upsert_core::verify::truncate(&second.column)
            ),
        ));
    }
}

/// Lifetimes are fine (`&'a str` fields); type and const parameters are not.
fn check_generics(cx: &mut Ctxt, input: &DeriveInput) {
    for param in &input.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(param) => cx.error_spanned_by(
                param,
                "AtomicUpsert does not support generic type parameters: the statement and the \
                 column types are fixed at compile time; use concrete field types (lifetimes such \
                 as `&'a str` are supported)",
            ),
            GenericParam::Const(param) => cx.error_spanned_by(
                param,
                "AtomicUpsert does not support const generic parameters: the statement is fixed \
                 at compile time",
            ),
        }
    }
}

/// At most one role flag (`skip`, `insert_only`, a timestamp, a strategy or `version`) per
/// field, and none on a key.
fn check_flags(cx: &mut Ctxt, container: &Container) {
    for field in &container.fields {
        let flags = &field.attrs.flags;
        if field.attrs.conflict_key.is_some() {
            for (span, flag) in flags {
                cx.syn_error(syn::Error::new(
                    *span,
                    format!(
                        "`#[conflict_key]` field cannot be `{}`: {}; remove one of the two",
                        role_name(*flag),
                        why_not_on_key(*flag)
                    ),
                ));
            }
        } else if let [(_, first), rest @ ..] = flags.as_slice() {
            for (span, flag) in rest {
                cx.syn_error(syn::Error::new(
                    *span,
                    format!(
                        "`{}` contradicts `{}` on the same field: choose one",
                        role_name(*flag),
                        role_name(*first)
                    ),
                ));
            }
        }
    }
}

fn check_key_present(cx: &mut Ctxt, container: &Container) {
    if !container
        .fields
        .iter()
        .any(|field| field.attrs.conflict_key.is_some())
    {
        cx.error_spanned_by(
            container.ident,
            "AtomicUpsert needs at least one `#[conflict_key]` field: mark the field(s) of the \
             table's unique key, e.g. `#[conflict_key] stats_type: String`",
        );
    }
}

/// Two written fields may not name one column.
fn check_columns_unique(cx: &mut Ctxt, container: &Container) {
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for field in &container.fields {
        if field.role == Role::Skip {
            continue;
        }
        let column = field.column.clone();
        if let Some(first) = seen.get(&column) {
            cx.syn_error(syn::Error::new(
                field.column_span(),
                format!(
                    "column `{column}` is already written by field `{first}`: two fields cannot \
                     map to one column; rename one with `#[upsert(rename = \"..\")]` or mark it \
                     `#[upsert(skip)]`"
                ),
            ));
        } else {
            seen.insert(column, field.ident);
        }
    }
}

/// One `version` field; `version` and `update_where` never both guard the update; a
/// constraint target takes no index predicate; `skip_unchanged` has something to compare.
fn check_guards(cx: &mut Ctxt, container: &Container) {
    let mut versions = container
        .fields
        .iter()
        .filter(|field| field.role == Role::Version);
    let first_version = versions.next();
    for extra in versions {
        if let Some(span) = extra
            .attrs
            .flags
            .iter()
            .find(|(_, flag)| *flag == Role::Version)
            .map(|(span, _)| *span)
        {
            cx.syn_error(syn::Error::new(
                span,
                format!(
                    "a second `version` field: `{}` is already the version; a row has one \
                     version column, compared on every update (use `update_where` for a \
                     combined rule instead)",
                    first_version.map_or_else(String::new, |field| field.ident.to_string())
                ),
            ));
        }
    }
    let attrs = &container.attrs;
    if let (Some(version), Some(span)) = (first_version, attrs.update_where.span()) {
        cx.syn_error(syn::Error::new(
            span,
            format!(
                "`update_where` conflicts with the `version` field `{}`: both decide whether \
                 the update happens; drop `#[upsert(version)]` and write the whole rule in the \
                 predicate, e.g. `update_where = \"EXCLUDED.{col} > {table}.{col} AND ..\"`",
                version.ident,
                col = version.column,
                table = container.table,
            ),
        ));
    }
    if let (Some(_), Some(span)) = (attrs.constraint.get(), attrs.conflict_where.span()) {
        cx.syn_error(syn::Error::new(
            span,
            "`conflict_where` cannot be combined with `constraint`: `ON CONFLICT ON CONSTRAINT` \
             names the constraint, and PostgreSQL takes no index predicate with it; keep \
             `conflict_where` to match a partial unique index (which is not a constraint), or \
             `constraint` alone",
        ));
    }
    if let Some(span) = attrs.update_where.span() {
        let updated = container.fields.iter().any(|field| field.role.is_updated());
        if !updated {
            cx.syn_error(syn::Error::new(
                span,
                "`update_where` has nothing to guard: no field is updated on conflict (every \
                 field is a key, skipped, insert_only or created_at), so the statement is \
                 `ON CONFLICT DO NOTHING`; remove it",
            ));
        }
    }
    if let Some(span) = attrs.nulls_not_distinct.span()
        && !container
            .fields
            .iter()
            .any(|f| f.role == Role::Key && f.optional())
    {
        cx.syn_error(syn::Error::new(
            span,
            "`nulls_not_distinct` has nothing to say: no `#[conflict_key]` field is an `Option`, \
             so no key is NULL; remove it",
        ));
    }
    if let Some(span) = attrs.skip_unchanged.span() {
        let compared = container
            .fields
            .iter()
            .any(|field| field.role.is_compared());
        if !compared {
            cx.syn_error(syn::Error::new(
                span,
                "`skip_unchanged` has nothing to compare: no field is updated on conflict \
                 (every field is a key, skipped, insert_only or a timestamp); remove it",
            ));
        }
    }
}

/// Why a role flag cannot go on a `#[conflict_key]` field.
fn why_not_on_key(role: Role) -> &'static str {
    match role {
        Role::Key | Role::Write => "",
        Role::Skip => "a key that is not written cannot be matched by ON CONFLICT",
        Role::InsertOnly => "a key is never updated anyway",
        Role::Defaulted => "a key must be a value the caller sends, not a column default",
        Role::CreatedAt | Role::UpdatedAt => {
            "a key must be a value the caller sends, not a server timestamp"
        }
        Role::Version => {
            "the version is compared between the stored and the incoming row of one key, \
             so it cannot be the key itself"
        }
        Role::Combine(_) => {
            "a conflict strategy decides how a stored value changes, and a key never changes"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FEATURES, GATED_TYPES, TIME_TYPES};

    #[test]
    fn every_gated_type_names_a_feature_of_the_crate() {
        for (ty, feature) in GATED_TYPES.iter().chain(TIME_TYPES) {
            assert!(
                FEATURES.iter().any(|(name, _)| name == feature),
                "{ty}: no feature `{feature}`"
            );
        }
    }
}
