//! The attribute grammar: `#[conflict_key]` and `#[upsert(..)]` on the struct and fields.
//! The keys and what each takes are listed once, in [`CONTAINER_KEYS`] and [`FIELD_KEYS`];
//! parsing and every "unknown key" message read those tables.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};
use upsert_core::{Role, Strategy};

use crate::ctxt::Ctxt;
use crate::symbol::{
    ADD, COALESCE, COLLATE, CONFLICT_KEY, CONFLICT_WHERE, CONSTRAINT, CREATED_AT, DEFAULT,
    GREATEST, INSERT_ONLY, LEAST, MERGE, NULLS, NULLS_NOT_DISTINCT, PARTITIONED, RENAME, SCHEMA,
    SKIP, SKIP_UNCHANGED, SQL_TYPE, Symbol, TABLE, UPDATE_FROM, UPDATE_WHERE, UPDATED_AT, UPSERT,
    VERSION,
};

/// A key of `#[upsert(..)]` and what it takes.
#[derive(Clone, Copy)]
struct Key {
    symbol: Symbol,
    /// For `key = ".."`: what the string is, for messages. `None` for a bare flag.
    value: Option<&'static str>,
}

impl Key {
    const fn value(symbol: Symbol, what: &'static str) -> Self {
        Key {
            symbol,
            value: Some(what),
        }
    }

    const fn flag(symbol: Symbol) -> Self {
        Key {
            symbol,
            value: None,
        }
    }
}

/// Keys accepted in `#[upsert(..)]` on the struct.
const CONTAINER_KEYS: &[Key] = &[
    Key::value(TABLE, "table name"),
    Key::value(SCHEMA, "schema name"),
    Key::flag(SKIP_UNCHANGED),
    Key::value(CONSTRAINT, "constraint name"),
    Key::value(
        CONFLICT_WHERE,
        "`conflict_where` predicate (a SQL boolean expression)",
    ),
    Key::value(
        UPDATE_WHERE,
        "`update_where` predicate (a SQL boolean expression)",
    ),
    Key::flag(NULLS_NOT_DISTINCT),
    Key::flag(PARTITIONED),
];

/// The field flags that give a field its [`Role`], in the order messages list them.
const ROLE_FLAGS: &[(Symbol, Role)] = &[
    (SKIP, Role::Skip),
    (INSERT_ONLY, Role::InsertOnly),
    (CREATED_AT, Role::CreatedAt),
    (UPDATED_AT, Role::UpdatedAt),
    (ADD, Role::Combine(Strategy::Add)),
    (GREATEST, Role::Combine(Strategy::Greatest)),
    (LEAST, Role::Combine(Strategy::Least)),
    (COALESCE, Role::Combine(Strategy::Coalesce)),
    (MERGE, Role::Combine(Strategy::Merge)),
    (VERSION, Role::Version),
];

/// The field keys written `key = ".."`.
const FIELD_VALUE_KEYS: [Key; 6] = [
    Key::value(RENAME, "column name"),
    Key::value(SQL_TYPE, "column's SQL type"),
    Key::value(COLLATE, "collation name"),
    Key::value(
        NULLS,
        "NULL rule of the counter (\"zero\" or \"propagate\")",
    ),
    Key::value(
        DEFAULT,
        "column default a `None` inserts (a SQL expression, as in the column's DEFAULT)",
    ),
    Key::value(
        UPDATE_FROM,
        "source of an update's value (\"excluded\" or \"sent\")",
    ),
];

/// Keys accepted in `#[upsert(..)]` on a field: the value keys, then the role flags.
const FIELD_KEYS: [Key; FIELD_VALUE_KEYS.len() + ROLE_FLAGS.len()] = {
    let mut keys = [FIELD_VALUE_KEYS[0]; FIELD_VALUE_KEYS.len() + ROLE_FLAGS.len()];
    let mut i = 0;
    while i < FIELD_VALUE_KEYS.len() {
        keys[i] = FIELD_VALUE_KEYS[i];
        i += 1;
    }
    let mut j = 0;
    while j < ROLE_FLAGS.len() {
        keys[i + j] = Key::flag(ROLE_FLAGS[j].0);
        j += 1;
    }
    keys
};

/// The attribute that gives `role`: `conflict_key` or a role flag (`Write` has none).
pub fn role_name(role: Role) -> Symbol {
    ROLE_FLAGS
        .iter()
        .find(|(_, flag)| *flag == role)
        .map_or(CONFLICT_KEY, |(symbol, _)| *symbol)
}

/// A value given once, with the span of the key that gave it.
pub struct Attr<T> {
    name: Symbol,
    value: Option<(Span, T)>,
}

impl<T> Attr<T> {
    fn none(name: Symbol) -> Self {
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
    /// `nulls_not_distinct`: the key's index has `NULLS NOT DISTINCT`.
    pub nulls_not_distinct: Attr<()>,
    /// `partitioned`: the table is partitioned (no `xmax` in `RETURNING`).
    pub partitioned: Attr<()>,
    /// `constraint = ".."`: `ON CONFLICT ON CONSTRAINT`.
    pub constraint: Attr<LitStr>,
    /// `conflict_where = ".."`: the predicate of a partial unique index.
    pub conflict_where: Attr<LitStr>,
    /// `update_where = ".."`: a raw SQL guard on the update.
    pub update_where: Attr<LitStr>,
}

/// `#[conflict_key]` and `#[upsert(..)]` on one field.
pub struct FieldAttrs {
    /// The span of `conflict_key`, when present.
    pub conflict_key: Option<Span>,
    pub rename: Attr<LitStr>,
    /// `sql_type = ".."`: a batch casts the field's values to it.
    pub sql_type: Attr<LitStr>,
    /// `collate = ".."`: a batch gives the field's values this collation.
    pub collate: Attr<LitStr>,
    /// `nulls = ".."`: the NULL rule of a counter (`add`).
    pub nulls: Attr<LitStr>,
    /// `default = ".."`: what a `None` inserts; a `None` leaves the stored value on update.
    pub default: Attr<LitStr>,
    /// `update_from = ".."`: `"excluded"` (the default) or `"sent"`.
    pub update_from: Attr<LitStr>,
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

/// The key of `keys` that `meta` names, else an error saying where it belongs or what is
/// expected.
fn find_key(
    meta: &ParseNestedMeta,
    keys: &[Key],
    other: &[Key],
    other_name: &str,
) -> syn::Result<Key> {
    if let Some(key) = keys.iter().find(|key| meta.path == key.symbol) {
        return Ok(*key);
    }
    let name = key_name(meta);
    if let Some(key) = other.iter().find(|key| meta.path == key.symbol) {
        let example = if key.value.is_some() {
            format!("{name} = \"..\"")
        } else {
            name.clone()
        };
        return Err(meta.error(format!(
            "`{name}` is a {other_name} attribute: put `#[upsert({example})]` on the {other_name}"
        )));
    }
    let expected: Vec<String> = keys.iter().map(|key| format!("`{}`", key.symbol)).collect();
    Err(meta.error(format!(
        "unknown upsert attribute `{name}`; expected one of {}",
        expected.join(", ")
    )))
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

/// Parses what `key` takes: `Some(literal)` for `key = ".."`, `None` for a flag.
fn key_value(meta: &ParseNestedMeta, key: Key) -> syn::Result<Option<LitStr>> {
    match key.value {
        Some(what) => name_value(meta, what).map(Some),
        None => no_value(meta).map(|()| None),
    }
}

/// Calls `each` for every `#[upsert(..)]` item, recording errors in `cx`.
fn for_each_upsert_item(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    mut each: impl FnMut(&mut Ctxt, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| *attr.path() == UPSERT) {
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
        let mut table = Attr::none(TABLE);
        let mut schema = Attr::none(SCHEMA);
        let mut skip_unchanged = Attr::none(SKIP_UNCHANGED);
        let mut nulls_not_distinct = Attr::none(NULLS_NOT_DISTINCT);
        let mut partitioned = Attr::none(PARTITIONED);
        let mut constraint = Attr::none(CONSTRAINT);
        let mut conflict_where = Attr::none(CONFLICT_WHERE);
        let mut update_where = Attr::none(UPDATE_WHERE);
        for_each_upsert_item(cx, attrs, |cx, meta| {
            let span = meta.path.span();
            let key = find_key(meta, CONTAINER_KEYS, &FIELD_KEYS, "field")?;
            let Some(value) = key_value(meta, key)? else {
                let flag = match key.symbol {
                    NULLS_NOT_DISTINCT => &mut nulls_not_distinct,
                    PARTITIONED => &mut partitioned,
                    _ => &mut skip_unchanged,
                };
                flag.set(cx, span, ());
                return Ok(());
            };
            let slot = match key.symbol {
                TABLE => &mut table,
                SCHEMA => &mut schema,
                CONSTRAINT => &mut constraint,
                CONFLICT_WHERE => &mut conflict_where,
                UPDATE_WHERE => &mut update_where,
                other => return Err(meta.error(format!("`{other}` is listed but not read"))),
            };
            slot.set(cx, span, value);
            Ok(())
        });
        for attr in attrs.iter().filter(|attr| *attr.path() == CONFLICT_KEY) {
            cx.error_spanned_by(
                attr,
                "`#[conflict_key]` belongs on the key field(s), not on the struct",
            );
        }
        ContainerAttrs {
            table,
            schema,
            skip_unchanged,
            nulls_not_distinct,
            partitioned,
            constraint,
            conflict_where,
            update_where,
        }
    }
}

impl FieldAttrs {
    pub fn from_ast(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut conflict_key = None;
        for attr in attrs.iter().filter(|attr| *attr.path() == CONFLICT_KEY) {
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
        let mut rename = Attr::none(RENAME);
        let mut sql_type = Attr::none(SQL_TYPE);
        let mut collate = Attr::none(COLLATE);
        let mut nulls = Attr::none(NULLS);
        let mut default = Attr::none(DEFAULT);
        let mut update_from = Attr::none(UPDATE_FROM);
        let mut flags: Vec<(Span, Role)> = Vec::new();
        for_each_upsert_item(cx, attrs, |cx, meta| {
            let span = meta.path.span();
            let key = find_key(meta, &FIELD_KEYS, CONTAINER_KEYS, "struct")?;
            if let Some(value) = key_value(meta, key)? {
                let slot = match key.symbol {
                    SQL_TYPE => &mut sql_type,
                    COLLATE => &mut collate,
                    NULLS => &mut nulls,
                    DEFAULT => &mut default,
                    UPDATE_FROM => &mut update_from,
                    _ => &mut rename,
                };
                slot.set(cx, span, value);
                return Ok(());
            }
            let role = ROLE_FLAGS
                .iter()
                .find(|(symbol, _)| *symbol == key.symbol)
                .map_or(Role::Write, |(_, role)| *role);
            if flags.iter().any(|(_, seen)| *seen == role) {
                return Err(meta.error(format!("duplicate upsert attribute `{}`", key.symbol)));
            }
            flags.push((span, role));
            Ok(())
        });
        FieldAttrs {
            conflict_key,
            rename,
            sql_type,
            collate,
            nulls,
            default,
            update_from,
            flags,
        }
    }
}
