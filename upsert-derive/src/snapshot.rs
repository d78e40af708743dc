//! The build-time schema check: when a snapshot file written by `atomic-upsert-cli prepare`
//! is present, the struct is checked against its table there, with `upsert_core`'s rules
//! (the same `verify` runs at startup), and each mismatch becomes a compile error on the
//! field's or attribute's tokens. Without a snapshot nothing happens: the macro never
//! touches the network.
//!
//! - The file: `$ATOMIC_UPSERT_SCHEMA` if set, else `atomic-upsert.schema` at the root of the
//!   crate being compiled (`$CARGO_MANIFEST_DIR`).
//! - `ATOMIC_UPSERT_SCHEMA_CHECK=off` turns the check off.
//! - The generated code names the file in `include_bytes!` and both variables in
//!   `option_env!`, so Cargo rebuilds when the file or a variable changes.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use upsert_core::schema::Snapshot;
use upsert_core::verify::{self, FieldFacts, Kind, Mismatch, Site};
use upsert_core::{Postgres, Role};

use crate::ast::Container;
use crate::ctxt::Ctxt;

/// The snapshot file's name at a crate's root.
pub const FILE: &str = "atomic-upsert.schema";
/// The variable naming another snapshot file.
pub const PATH_VAR: &str = "ATOMIC_UPSERT_SCHEMA";
/// The variable that turns the check off (`off`, `0` or `false`).
pub const CHECK_VAR: &str = "ATOMIC_UPSERT_SCHEMA_CHECK";

/// Checks `container` against the snapshot, if there is one; returns the tokens that make
/// Cargo rebuild when the snapshot or the variables change.
pub fn check(cx: &mut Ctxt, container: &Container) -> TokenStream {
    let track_vars = quote! {
        const _: ::core::option::Option<&str> = ::core::option_env!(#PATH_VAR);
        const _: ::core::option::Option<&str> = ::core::option_env!(#CHECK_VAR);
    };
    if std::env::var(CHECK_VAR).is_ok_and(|v| matches!(v.as_str(), "off" | "0" | "false")) {
        return track_vars;
    }
    let explicit = std::env::var_os(PATH_VAR).map(PathBuf::from);
    let path = match &explicit {
        Some(path) => path.clone(),
        None => match std::env::var_os("CARGO_MANIFEST_DIR") {
            Some(dir) => PathBuf::from(dir).join(FILE),
            None => return track_vars,
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if explicit.is_none() && !path.exists() => return track_vars,
        Err(error) => {
            cx.error_spanned_by(
                container.ident,
                format!(
                    "cannot read the schema snapshot {} ({PATH_VAR}): {error}",
                    path.display()
                ),
            );
            return track_vars;
        }
    };
    let tracked = path.canonicalize().unwrap_or_else(|_| path.clone());
    let tracked = tracked.to_string_lossy();
    let tracking = quote! {
        #track_vars
        const _: &[u8] = ::core::include_bytes!(#tracked);
    };
    let snapshot = match Snapshot::parse(&text) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            cx.error_spanned_by(
                container.ident,
                format!(
                    "the schema snapshot {} is not readable: {error}; write it again with \
                     `atomic-upsert-cli prepare`",
                    path.display()
                ),
            );
            return tracking;
        }
    };
    for mismatch in mismatches(container, &snapshot) {
        cx.syn_error(syn::Error::new(
            span(container, &mismatch),
            format!(
                "{mismatch} (from the schema snapshot; `atomic-upsert-cli prepare` refreshes it)"
            ),
        ));
    }
    tracking
}

/// What the snapshot's table says against the struct: `upsert_core`'s rules, plus the
/// field types whose compatible columns are known without sqlx.
fn mismatches(container: &Container, snapshot: &Snapshot) -> Vec<Mismatch> {
    let model = container.model();
    let rust_types: Vec<String> = container
        .fields
        .iter()
        .map(crate::ast::Field::type_text)
        .collect();
    let facts: Vec<FieldFacts> = container
        .fields
        .iter()
        .zip(&rust_types)
        .map(|(field, rust_type)| FieldFacts {
            field: &field.name,
            column: &field.column,
            role: field.role,
            optional: field.optional(),
            sql_type: verify::compatible_columns(rust_type)
                .and_then(|types| types.first().copied()),
            cast: field.cast.as_deref(),
            collate: field.collate.as_deref(),
            array: upsert_core::is_array_type(rust_type),
            text: upsert_core::is_text_type(rust_type),
            class: verify::TypeClass::of(rust_type),
            default: field.default.as_deref(),
            sent: field.sent,
        })
        .collect();
    let table = snapshot.resolve(container.schema.as_deref(), &container.table);
    let rust_types: Vec<&str> = rust_types.iter().map(String::as_str).collect();
    verify::check_offline(&Postgres, &model, &facts, &rust_types, table)
}

/// Where the compile error goes: the tokens the mismatch is about.
fn span(container: &Container, mismatch: &Mismatch) -> Span {
    let attrs = &container.attrs;
    let first_key = || {
        container
            .fields
            .iter()
            .find(|f| f.role == Role::Key)
            .and_then(|f| f.attrs.conflict_key)
            .unwrap_or_else(|| container.ident.span())
    };
    match mismatch.site {
        Site::Table => attrs
            .table
            .get()
            .map_or_else(|| container.ident.span(), syn::LitStr::span),
        Site::Target => match mismatch.kind {
            Kind::Constraint | Kind::DeferrableConstraint => {
                attrs.constraint.span().unwrap_or_else(first_key)
            }
            Kind::PartialIndex | Kind::IgnoredPredicate => {
                attrs.conflict_where.span().unwrap_or_else(first_key)
            }
            _ => first_key(),
        },
        Site::Field(index) => {
            let Some(field) = container.fields.get(index) else {
                return container.ident.span();
            };
            match mismatch.kind {
                Kind::MissingColumn | Kind::GeneratedColumn => field.column_span(),
                Kind::StrategyType => field
                    .attrs
                    .flags
                    .first()
                    .map_or_else(|| field.ty_span(), |(span, _)| *span),
                Kind::KeyEquality => field.attrs.conflict_key.unwrap_or_else(|| field.ty_span()),
                Kind::ColumnDefault => field
                    .attrs
                    .default
                    .span()
                    .unwrap_or_else(|| field.ty_span()),
                _ => field.ty_span(),
            }
        }
    }
}
