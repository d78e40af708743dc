//! A typed view of the deriving struct: fields, attributes and every span.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr::{ContainerAttrs, FieldAttrs};
use crate::ctxt::Ctxt;

/// The struct being derived.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub fields: Vec<Field<'a>>,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
}

/// How a field takes part in the statement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// `#[conflict_key]`: bound, part of the conflict target, never updated.
    Key,
    /// A plain field: bound, and replaced on conflict.
    Write,
    /// `#[upsert(skip)]`: not in the statement.
    Skip,
    /// `#[upsert(insert_only)]`: bound, never updated.
    InsertOnly,
    /// `#[upsert(created_at)]`: `now()` on insert, never updated.
    CreatedAt,
    /// `#[upsert(updated_at)]`: `now()` on insert and on update.
    UpdatedAt,
    /// `#[upsert(add)]`: stored + incoming.
    Add,
    /// `#[upsert(greatest)]`: the greater of stored and incoming.
    Greatest,
    /// `#[upsert(least)]`: the lesser of stored and incoming.
    Least,
    /// `#[upsert(coalesce)]`: incoming, unless it is NULL.
    Coalesce,
    /// `#[upsert(merge)]`: stored `||` incoming (jsonb).
    Merge,
    /// `#[upsert(version)]`: replaced, and the update happens only when it grows.
    Version,
}

impl Role {
    /// Whether the field's value is bound as a parameter.
    pub fn is_bound(self) -> bool {
        !matches!(self, Role::Skip | Role::CreatedAt | Role::UpdatedAt)
    }
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
                Some(Field {
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    attrs: FieldAttrs::from_ast(cx, &field.attrs),
                })
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            attrs,
            fields,
        })
    }

    /// The table name: `#[upsert(table)]`, else the struct name in `snake_case`.
    pub fn table(&self) -> String {
        self.attrs.table.get().map_or_else(
            || snake_case(&self.ident.unraw().to_string()),
            syn::LitStr::value,
        )
    }

    pub fn schema(&self) -> Option<String> {
        self.attrs.schema.get().map(syn::LitStr::value)
    }

    /// The `#[upsert(version)]` field, if any (`check` rejects a second one).
    pub fn version(&self) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|field| field.role() == Role::Version)
    }
}

impl Field<'_> {
    /// The column name: `#[upsert(rename)]`, else the field name (without `r#`).
    pub fn column(&self) -> String {
        self.attrs
            .rename
            .get()
            .map_or_else(|| self.ident.unraw().to_string(), syn::LitStr::value)
    }

    /// Where to point at the column name: the `rename` literal, else the field name.
    pub fn column_span(&self) -> Span {
        self.attrs
            .rename
            .get()
            .map_or_else(|| self.ident.span(), syn::LitStr::span)
    }

    /// The field's role, once `check` has rejected contradictory attributes.
    pub fn role(&self) -> Role {
        if self.attrs.conflict_key.is_some() {
            return Role::Key;
        }
        self.attrs
            .flags
            .first()
            .map_or(Role::Write, |(_, role)| *role)
    }

    pub fn ty_span(&self) -> Span {
        self.ty.span()
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
