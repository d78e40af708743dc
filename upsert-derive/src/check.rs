//! Rules across attributes and fields, checked after parsing; every violation is recorded.

use std::collections::HashMap;

use syn::{DeriveInput, GenericParam};

use crate::ast::{Container, Role};
use crate::ctxt::Ctxt;

pub fn check(cx: &mut Ctxt, input: &DeriveInput, container: &Container) {
    check_generics(cx, input);
    check_flags(cx, container);
    check_key_present(cx, container);
    check_columns_unique(cx, container);
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

/// At most one of `skip`, `insert_only`, `created_at` and `updated_at`, and none on a key.
fn check_flags(cx: &mut Ctxt, container: &Container) {
    for field in &container.fields {
        let flags = &field.attrs.flags;
        if field.attrs.conflict_key.is_some() {
            for (span, flag) in flags {
                let why = match flag.name() {
                    "skip" => "a key that is not written cannot be matched by ON CONFLICT",
                    "insert_only" => "a key is never updated anyway",
                    _ => "a key must be a value the caller sends, not a server timestamp",
                };
                cx.syn_error(syn::Error::new(
                    *span,
                    format!(
                        "`#[conflict_key]` field cannot be `{}`: {why}; remove one of the two",
                        flag.name()
                    ),
                ));
            }
        } else if let [(_, first), rest @ ..] = flags.as_slice() {
            for (span, flag) in rest {
                cx.syn_error(syn::Error::new(
                    *span,
                    format!(
                        "`{}` contradicts `{}` on the same field: choose one",
                        flag.name(),
                        first.name()
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
        if field.role() == Role::Skip {
            continue;
        }
        let column = field.column();
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
