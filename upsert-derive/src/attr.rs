//! The attribute grammar: `#[conflict_key]` and `#[upsert(..)]` on the struct and fields.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use crate::ast::Role;
use crate::ctxt::Ctxt;

/// Keys accepted in `#[upsert(..)]` on the struct.
pub const CONTAINER_KEYS: &[&str] = &[
    "table",
    "schema",
    "skip_unchanged",
    "constraint",
    "conflict_where",
    "update_where",
];
/// Keys accepted in `#[upsert(..)]` on a field.
pub const FIELD_KEYS: &[&str] = &[
    "rename",
    "skip",
    "insert_only",
    "created_at",
    "updated_at",
    "add",
    "greatest",
    "least",
    "coalesce",
    "merge",
    "version",
];

/// Keys written `key = ".."`; the others are bare flags.
const VALUE_KEYS: &[&str] = &[
    "table",
    "schema",
    "constraint",
    "conflict_where",
    "update_where",
    "rename",
];

/// A value given once, with the span of the key that gave it.
pub struct Attr<T> {
    name: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Attr<T> {
    fn none(name: &'static str) -> Self {
        Attr { name, value: None }
    }

    /// Sets the value, or reports a duplicate at `span` (the last one never silently wins).
    fn set(&mut self, cx: &mut Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.syn_error(syn::Error::new(
                span,
                format!("duplicate upsert attribute `{}`", self.name),
            ));
        } else {
            self.value = Some((span, value));
        }
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, value)| value)
    }

    /// The span of the key that gave the value.
    pub fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(span, _)| *span)
    }
}

/// `#[upsert(..)]` on the struct.
pub struct ContainerAttrs {
    pub table: Attr<LitStr>,
    pub schema: Attr<LitStr>,
    /// `skip_unchanged`: no write when no column would change.
    pub skip_unchanged: Attr<()>,
    /// `constraint = ".."`: `ON CONFLICT ON CONSTRAINT`.
    pub constraint: Attr<LitStr>,
    /// `conflict_where = ".."`: the predicate of a partial unique index.
    pub conflict_where: Attr<LitStr>,
    /// `update_where = ".."`: a raw SQL guard on the update.
    pub update_where: Attr<LitStr>,
}

/// The grammar of the role flags: the `#[upsert(..)]` keys that give a field its [`Role`].
impl Role {
    /// Every role a flag can give, in the order of [`FIELD_KEYS`].
    const FLAGS: [Role; 10] = [
        Role::Skip,
        Role::InsertOnly,
        Role::CreatedAt,
        Role::UpdatedAt,
        Role::Add,
        Role::Greatest,
        Role::Least,
        Role::Coalesce,
        Role::Merge,
        Role::Version,
    ];

    /// The key that gives the role (`Key` and `Write` are not flags).
    pub fn name(self) -> &'static str {
        match self {
            Role::Key => "conflict_key",
            Role::Write => "(no role flag)",
            Role::Skip => "skip",
            Role::InsertOnly => "insert_only",
            Role::CreatedAt => "created_at",
            Role::UpdatedAt => "updated_at",
            Role::Add => "add",
            Role::Greatest => "greatest",
            Role::Least => "least",
            Role::Coalesce => "coalesce",
            Role::Merge => "merge",
            Role::Version => "version",
        }
    }

    /// Why the flag cannot go on a `#[conflict_key]` field.
    pub fn why_not_on_key(self) -> &'static str {
        match self {
            Role::Key | Role::Write => "",
            Role::Skip => "a key that is not written cannot be matched by ON CONFLICT",
            Role::InsertOnly => "a key is never updated anyway",
            Role::CreatedAt | Role::UpdatedAt => {
                "a key must be a value the caller sends, not a server timestamp"
            }
            Role::Version => {
                "the version is compared between the stored and the incoming row of one key, \
                 so it cannot be the key itself"
            }
            Role::Add | Role::Greatest | Role::Least | Role::Coalesce | Role::Merge => {
                "a conflict strategy decides how a stored value changes, and a key never changes"
            }
        }
    }
}

/// `#[conflict_key]` and `#[upsert(..)]` on one field.
pub struct FieldAttrs {
    /// The span of `conflict_key`, when present.
    pub conflict_key: Option<Span>,
    pub rename: Attr<LitStr>,
    /// Every role flag given, in order, with the span of its key; `check` rejects
    /// combinations.
    pub flags: Vec<(Span, Role)>,
}

fn key_name(meta: &ParseNestedMeta) -> String {
    let segments: Vec<String> = meta
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments.join("::")
}

fn unknown_key(
    meta: &ParseNestedMeta,
    here: &[&str],
    there: &[&str],
    there_name: &str,
) -> syn::Error {
    let name = key_name(meta);
    if there.contains(&name.as_str()) {
        let takes_value = VALUE_KEYS.contains(&name.as_str());
        let example = if takes_value {
            format!("{name} = \"..\"")
        } else {
            name.clone()
        };
        return meta.error(format!(
            "`{name}` is a {there_name} attribute: put `#[upsert({example})]` on the {there_name}"
        ));
    }
    let expected: Vec<String> = here.iter().map(|key| format!("`{key}`")).collect();
    meta.error(format!(
        "unknown upsert attribute `{name}`; expected one of {}",
        expected.join(", ")
    ))
}

/// Reads `key = "string"`, rejecting an empty (or blank) or NUL-holding value.
fn name_value(meta: &ParseNestedMeta, what: &str) -> syn::Result<LitStr> {
    let key = key_name(meta);
    let lit: LitStr = meta
        .value()
        .and_then(syn::parse::ParseBuffer::parse)
        .map_err(|_| {
            meta.error(format!(
                "expected `{key} = \"..\"`: the {what} as a string literal"
            ))
        })?;
    let value = lit.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!("the {what} cannot be empty"),
        ));
    }
    if value.contains('\0') {
        return Err(syn::Error::new(
            lit.span(),
            format!("the {what} cannot contain a NUL character"),
        ));
    }
    Ok(lit)
}

/// Rejects `flag = ..` or `flag(..)`.
fn no_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        Ok(())
    } else {
        let key = key_name(meta);
        Err(meta.error(format!("`{key}` takes no value: write `#[upsert({key})]`")))
    }
}

/// Calls `each` for every `#[upsert(..)]` item, recording errors in `cx`.
fn for_each_upsert_item(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    mut each: impl FnMut(&mut Ctxt, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("upsert")) {
        let mut errors = Vec::new();
        let parsed = attr.parse_nested_meta(|meta| {
            if let Err(error) = each(cx, &meta) {
                // Keep going: one build reports every bad key. Skip the rest of this item.
                errors.push(error);
                while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    meta.input.parse::<proc_macro2::TokenTree>()?;
                }
            }
            Ok(())
        });
        for error in errors {
            cx.syn_error(error);
        }
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
}

impl ContainerAttrs {
    pub fn from_ast(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut table = Attr::none("table");
        let mut schema = Attr::none("schema");
        let mut skip_unchanged = Attr::none("skip_unchanged");
        let mut constraint = Attr::none("constraint");
        let mut conflict_where = Attr::none("conflict_where");
        let mut update_where = Attr::none("update_where");
        for_each_upsert_item(cx, attrs, |cx, meta| {
            let span = meta.path.span();
            if meta.path.is_ident("table") {
                table.set(cx, span, name_value(meta, "table name")?);
            } else if meta.path.is_ident("schema") {
                schema.set(cx, span, name_value(meta, "schema name")?);
            } else if meta.path.is_ident("skip_unchanged") {
                no_value(meta)?;
                skip_unchanged.set(cx, span, ());
            } else if meta.path.is_ident("constraint") {
                constraint.set(cx, span, name_value(meta, "constraint name")?);
            } else if meta.path.is_ident("conflict_where") {
                conflict_where.set(
                    cx,
                    span,
                    name_value(
                        meta,
                        "`conflict_where` predicate (a SQL boolean expression)",
                    )?,
                );
            } else if meta.path.is_ident("update_where") {
                update_where.set(
                    cx,
                    span,
                    name_value(meta, "`update_where` predicate (a SQL boolean expression)")?,
                );
            } else {
                return Err(unknown_key(meta, CONTAINER_KEYS, FIELD_KEYS, "field"));
            }
            Ok(())
        });
        for attr in attrs
            .iter()
            .filter(|attr| attr.path().is_ident("conflict_key"))
        {
            cx.error_spanned_by(
                attr,
                "`#[conflict_key]` belongs on the key field(s), not on the struct",
            );
        }
        ContainerAttrs {
            table,
            schema,
            skip_unchanged,
            constraint,
            conflict_where,
            update_where,
        }
    }
}

impl FieldAttrs {
    pub fn from_ast(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut conflict_key = None;
        for attr in attrs
            .iter()
            .filter(|attr| attr.path().is_ident("conflict_key"))
        {
            if let Err(error) = attr.meta.require_path_only() {
                // Still a key: the field was meant as one, so no "no key" error follows.
                cx.syn_error(syn::Error::new(
                    error.span(),
                    "`#[conflict_key]` takes no arguments: write `#[conflict_key]` on each key field",
                ));
            }
            if conflict_key.is_some() {
                cx.error_spanned_by(attr, "duplicate `#[conflict_key]` on one field");
            } else {
                conflict_key = Some(attr.path().span());
            }
        }
        let mut rename = Attr::none("rename");
        let mut flags: Vec<(Span, Role)> = Vec::new();
        for_each_upsert_item(cx, attrs, |cx, meta| {
            let span = meta.path.span();
            if meta.path.is_ident("rename") {
                rename.set(cx, span, name_value(meta, "column name")?);
                return Ok(());
            }
            let Some(flag) = Role::FLAGS
                .into_iter()
                .find(|flag| meta.path.is_ident(flag.name()))
            else {
                return Err(unknown_key(meta, FIELD_KEYS, CONTAINER_KEYS, "struct"));
            };
            no_value(meta)?;
            if flags.iter().any(|(_, seen)| *seen == flag) {
                return Err(meta.error(format!("duplicate upsert attribute `{}`", flag.name())));
            }
            flags.push((span, flag));
            Ok(())
        });
        FieldAttrs {
            conflict_key,
            rename,
            flags,
        }
    }
}
