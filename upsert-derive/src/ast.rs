//! A typed view of the deriving struct: fields, attributes, every span, and the values
//! resolved once from the attributes (each field's role and column, the table name).

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};
use upsert_core::{ConflictTarget, FieldDef, InsertFlag, Model, Role, Strategy, Table};

use crate::attr::{ContainerAttrs, FieldAttrs};
use crate::ctxt::Ctxt;

/// The struct being derived.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub fields: Vec<Field<'a>>,
    /// `#[upsert(table)]`, else the struct name in `snake_case`.
    pub table: String,
    pub schema: Option<String>,
    pub constraint: Option<String>,
    pub conflict_where: Option<String>,
    pub update_where: Option<String>,
    /// The struct's lifetime parameters.
    pub lifetimes: Vec<Ident>,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// `#[conflict_key]`, else the first role flag, else a plain write (`check` rejects
    /// the contradictions).
    pub role: Role,
    /// `#[upsert(rename)]`, else the field name (without `r#`).
    pub column: String,
    /// The field name (without `r#`).
    pub name: String,
    /// `#[upsert(sql_type)]`.
    pub cast: Option<String>,
    /// `#[upsert(collate)]`.
    pub collate: Option<String>,
    /// `#[upsert(default = "..")]`: what a `None` inserts.
    pub default: Option<String>,
    /// `#[upsert(update_from = "sent")]`.
    pub sent: bool,
}

impl<'a> Container<'a> {
    /// Reads the struct; `None` when its shape cannot be derived at all (errors in `cx`).
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = ContainerAttrs::from_ast(cx, &input.attrs);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "AtomicUpsert needs named fields: a tuple struct has no column names; \
                         use `struct Name { field: Type, .. }`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "AtomicUpsert needs named fields: a unit struct has no columns to write",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "AtomicUpsert can only be derived for structs with named fields, not enums: \
                     a row has one shape; derive it on a struct per table",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "AtomicUpsert can only be derived for structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = FieldAttrs::from_ast(cx, &field.attrs);
                let role = if attrs.conflict_key.is_some() {
                    Role::Key
                } else {
                    attrs.flags.first().map_or(Role::Write, |(_, role)| *role)
                };
                let role = counter_nulls(cx, &attrs, role, is_option(&field.ty));
                let role = with_default(cx, &attrs, role, is_option(&field.ty));
                let sent = update_from(cx, &attrs, role);
                let default = attrs.default.get().map(LitStr::value);
                let name = ident.unraw().to_string();
                let column = attrs
                    .rename
                    .get()
                    .map_or_else(|| name.clone(), LitStr::value);
                let cast = attrs.sql_type.get().map(LitStr::value);
                let collate = attrs.collate.get().map(LitStr::value);
                Some(Field {
                    ident,
                    ty: &field.ty,
                    attrs,
                    role,
                    column,
                    name,
                    cast,
                    collate,
                    default,
                    sent,
                })
            })
            .collect();
        let value = |attr: &crate::attr::Attr<LitStr>| attr.get().map(LitStr::value);
        Some(Container {
            ident: &input.ident,
            table: value(&attrs.table)
                .unwrap_or_else(|| snake_case(&input.ident.unraw().to_string())),
            schema: value(&attrs.schema),
            constraint: value(&attrs.constraint),
            conflict_where: value(&attrs.conflict_where),
            update_where: value(&attrs.update_where),
            lifetimes: input
                .generics
                .lifetimes()
                .map(|l| l.lifetime.ident.clone())
                .collect(),
            attrs,
            fields,
        })
    }

    /// The statement model: every name and role as plain strings for `upsert_core`.
    pub fn model(&self) -> Model<'_> {
        let target = self.constraint.as_deref().map_or(
            ConflictTarget::Keys {
                predicate: self.conflict_where.as_deref(),
            },
            ConflictTarget::Constraint,
        );
        let fields: Vec<FieldDef> = self
            .fields
            .iter()
            .map(|field| FieldDef {
                column: &field.column,
                role: field.role,
                optional: field.optional(),
                cast: field.cast.as_deref(),
                collate: field.collate.as_deref(),
                array: field.is_array(),
                text: upsert_core::is_text_type(&field.type_text()),
                default: field.default.as_deref(),
                sent: field.sent,
            })
            .collect();
        Model::of_fields(
            Table {
                schema: self.schema.as_deref(),
                name: &self.table,
            },
            target,
            &fields,
            self.update_where.as_deref(),
            self.attrs.skip_unchanged.get().is_some(),
            self.attrs.nulls_not_distinct.get().is_some(),
        )
        .with_flag(InsertFlag::of_table(self.attrs.partitioned.get().is_some()))
    }
}

/// A counter's role with its NULL rule (`nulls = "zero"` or `"propagate"`); an `Option`
/// counter must choose one, and only a counter takes one.
fn counter_nulls(cx: &mut Ctxt, attrs: &FieldAttrs, role: Role, optional: bool) -> Role {
    let add = role == Role::Combine(Strategy::Add);
    let Some(null_rule) = attrs.nulls.get() else {
        if add && optional {
            let span = attrs
                .flags
                .iter()
                .find(|(_, r)| *r == role)
                .map_or_else(Span::call_site, |(span, _)| *span);
            cx.syn_error(syn::Error::new(
                span,
                "an `Option` counter needs its NULL rule: `#[upsert(add, nulls = \"zero\")]` (a NULL counts as 0: `COALESCE(c, 0) + ..`) or `#[upsert(add, nulls = \"propagate\")]` (NULL + n is NULL, as SQL's `+` and Diesel's `col + n`)",
            ));
        }
        return role;
    };
    if !add {
        cx.syn_error(syn::Error::new(
            null_rule.span(),
            "`nulls` is the NULL rule of a counter: it goes with `#[upsert(add)]` only",
        ));
        return role;
    }
    match null_rule.value().as_str() {
        "zero" => Role::Combine(Strategy::AddNullAsZero),
        "propagate" => Role::Combine(Strategy::AddNullPropagates),
        other => {
            cx.syn_error(syn::Error::new(
                null_rule.span(),
                format!("unknown NULL rule `{other}`: expected `nulls = \"zero\"` or `nulls = \"propagate\"`"),
            ));
            role
        }
    }
}

/// The role of a field with `default = ".."`: a plain `Option` field becomes
/// [`Role::Defaulted`] (`None` inserts the default and keeps the stored value on update); an
/// `insert_only` one stays so (`None` inserts the default). Anything else is an error.
fn with_default(cx: &mut Ctxt, attrs: &FieldAttrs, role: Role, optional: bool) -> Role {
    let Some(default) = attrs.default.get() else {
        return role;
    };
    if default.value().trim().is_empty() {
        cx.syn_error(syn::Error::new(
            default.span(),
            "`default` is the SQL expression a `None` inserts, as in the column's DEFAULT: for example `default = \"false\"` or `default = \"now()\"`",
        ));
    }
    if !optional {
        cx.syn_error(syn::Error::new(
            default.span(),
            "`default` is what a `None` inserts: the field must be an `Option` (a non-Option field always sends its value)",
        ));
    }
    match role {
        Role::Write => Role::Defaulted,
        Role::InsertOnly => role,
        _ => {
            cx.syn_error(syn::Error::new(
                default.span(),
                format!(
                    "`default` goes on a plain field (`None`: the default on insert, the stored value kept on update) or an `insert_only` one, not with `{}`",
                    crate::attr::role_name(role)
                ),
            ));
            role
        }
    }
}

/// `update_from = "sent"` (an update writes the value sent) or `"excluded"` (the row as
/// PostgreSQL proposed it, after `BEFORE INSERT` triggers: the default), on a field whose
/// update writes the incoming value.
fn update_from(cx: &mut Ctxt, attrs: &FieldAttrs, role: Role) -> bool {
    let Some(from) = attrs.update_from.get() else {
        return false;
    };
    let sent = match from.value().as_str() {
        "sent" => true,
        "excluded" => false,
        other => {
            cx.syn_error(syn::Error::new(
                from.span(),
                format!(
                    "unknown `update_from` source `{other}`: expected `update_from = \"excluded\"` (the row as proposed, after BEFORE INSERT triggers) or `update_from = \"sent\"` (the value the struct sent)"
                ),
            ));
            return false;
        }
    };
    if !matches!(role, Role::Write | Role::Defaulted) {
        cx.syn_error(syn::Error::new(
            from.span(),
            format!(
                "`update_from` says where an update's value comes from: it goes on a plain field (or one with `default`), not with `{}`",
                crate::attr::role_name(role)
            ),
        ));
        return false;
    }
    sent
}

/// Whether the type is written `Option<..>`.
fn is_option(ty: &Type) -> bool {
    matches!(peel(ty), Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The type without the invisible group a `macro_rules!` `$t:ty` wraps it in, or
/// parentheses: a struct a macro writes reads as the same struct written by hand.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        _ => ty,
    }
}

impl Field<'_> {
    /// Where to point at the column name: the `rename` literal, else the field name.
    pub fn column_span(&self) -> Span {
        self.attrs
            .rename
            .get()
            .map_or_else(|| self.ident.span(), LitStr::span)
    }

    /// Where to point at the field's type (its bounds and compile errors).
    pub fn ty_span(&self) -> Span {
        self.ty.span()
    }

    /// The field type's location, resolved at the derive's call site: for generated code
    /// that names its own locals (`query`, `row`, `rows`, `out`, `self`). A type passed into
    /// a `macro_rules!` as bare tokens carries the hygiene of the place it was written,
    /// under which those locals would not resolve ("cannot find value `query`").
    pub fn local_span(&self) -> Span {
        Span::call_site().located_at(self.ty.span())
    }

    /// Whether the type is written `Option<..>` (the derive sees tokens, not types: an alias
    /// of `Option` counts as not optional).
    pub fn optional(&self) -> bool {
        is_option(self.ty)
    }

    /// Whether the type is a PostgreSQL array column (`Vec<T>`, `Option<Vec<T>>`).
    pub fn is_array(&self) -> bool {
        upsert_core::is_array_type(&self.type_text())
    }

    /// Whether the type is `()`: a placeholder field that names a column and holds nothing.
    pub fn is_unit(&self) -> bool {
        matches!(peel(self.ty), Type::Tuple(tuple) if tuple.elems.is_empty())
    }

    /// The type as written, for messages: `Option<String>`.
    pub fn type_text(&self) -> String {
        let text = quote::ToTokens::to_token_stream(self.ty).to_string();
        let mut out = String::with_capacity(text.len());
        for part in text.split(' ') {
            let glue = out.ends_with(['<', '&', ':', '('])
                || part.starts_with(['<', '>', ',', ':', ')'])
                || out.is_empty();
            if !glue {
                out.push(' ');
            }
            out.push_str(part);
        }
        out
    }
}

/// `StravaStats` → `strava_stats`, `HTTPRequest` → `http_request`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) => {
                    p.is_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
                }
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_of_struct_names() {
        assert_eq!(snake_case("StravaStats"), "strava_stats");
        assert_eq!(snake_case("StravaAuth"), "strava_auth");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("Tag"), "tag");
        assert_eq!(snake_case("Page2Views"), "page2_views");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }
}
