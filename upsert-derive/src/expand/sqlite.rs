//! The SQLite side of the expansion: `GeneratedSqlite` and `FromStoredSqlite`, inside the
//! runtime's `if_sqlite!`, so that they expand to nothing (and cost nothing to compile)
//! without the `sqlite` feature; generic over the database so that a field type SQLite
//! cannot take fails only a call on SQLite; or, for a struct SQLite cannot take, impls that
//! name what it lacks ([`Gap`]) at the attribute.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{DeriveInput, WherePredicate};
use upsert_core::sqlite::Gap;
use upsert_core::sqlite::types::Affinity;
use upsert_core::{Dialect as _, Model, Role, Sqlite, single};

use super::postgres::{option_variant, unwritten_tokens};
use super::{gap_bound, where_clause, with_row_lifetime};
use crate::ast::Container;

/// The tokens that ask for what SQLite lacks: the attribute, or the array field's type.
pub(super) fn gap_span(container: &Container, gap: Gap) -> Span {
    let attrs = &container.attrs;
    let span = match gap {
        Gap::Schema => attrs.schema.span(),
        Gap::Constraint => attrs.constraint.span(),
        Gap::NullsNotDistinct => attrs.nulls_not_distinct.span(),
        Gap::GuardWithSkipUnchanged => attrs.skip_unchanged.span(),
        Gap::SqlType => container
            .fields
            .iter()
            .find_map(|f| f.attrs.sql_type.span()),
        Gap::SentValue => container
            .fields
            .iter()
            .find_map(|f| f.attrs.default.span().or(f.attrs.update_from.span())),
        Gap::Array => container
            .fields
            .iter()
            .find(|f| f.is_array())
            .map(crate::ast::Field::ty_span),
    };
    span.unwrap_or_else(|| container.ident.span())
}

/// What the SQLite impls hold: generic over the database (`__DB: SqliteDb`), so that they
/// compile whether or not the runtime's `sqlite` feature is on.
#[derive(Default)]
pub(super) struct SqliteParts {
    /// The `SqlitePlan` constant.
    plan: TokenStream,
    /// One `T: SqliteColumn<__DB>` bound per sent field.
    bounds: Vec<WherePredicate>,
    binds: Vec<TokenStream>,
    key_binds: Vec<TokenStream>,
    row_binds: Vec<TokenStream>,
    key_row_binds: Vec<TokenStream>,
    /// One `T: Decode<'__r, __DB> + Type<__DB>` bound per read field.
    decode_bounds: Vec<WherePredicate>,
    reads: Vec<TokenStream>,
}

impl SqliteParts {
    /// SQLite's statements and binds for `container`, or `None` when SQLite cannot take it
    /// (the runtime's `GeneratedSqlite` then says what SQLite cannot take).
    pub(super) fn new(container: &Container, model: &Model) -> Option<Self> {
        if Sqlite.unsupported(model).is_some() {
            return None;
        }
        let lite = &Sqlite;
        let returned: Vec<single::Returned> = container
            .fields
            .iter()
            .map(|f| single::Returned {
                name: &f.column,
                cast: None,
            })
            .collect();
        let chunks: Vec<TokenStream> = upsert_core::sqlite::bulk::chunk_rows(model)
            .into_iter()
            .map(|rows| {
                let upsert_sql = upsert_core::sqlite::bulk::upsert_many(lite, model, rows);
                let existing_sql = upsert_core::sqlite::bulk::existing_keys(lite, model, rows);
                quote! {
                    ::atomic_upsert::__private::SqliteChunk {
                        rows: #rows,
                        upsert_sql: #upsert_sql,
                        existing_sql: #existing_sql,
                    }
                }
            })
            .collect();
        let upsert_sql = single::upsert(lite, model);
        let insert_or_ignore_sql = single::insert_or_ignore(lite, model);
        let returning_sql = single::upsert_returning(lite, model, &returned);
        let probe_sql = single::probe(lite, model);
        let single = match single::update_stored(lite, model) {
            Some(update_sql) => {
                quote!(::atomic_upsert::__private::SqliteSingle::UpdateFirst(#update_sql))
            }
            None if model.has_updates() => quote!(::atomic_upsert::__private::SqliteSingle::Probe),
            None => quote!(::atomic_upsert::__private::SqliteSingle::Write),
        };
        let unwritten = unwritten_tokens(model.unwritten());
        let affinities = container
            .fields
            .iter()
            .map(|field| option_variant("Affinity", Affinity::of(&field.type_text())));
        let mut parts = SqliteParts {
            plan: quote! {
                ::atomic_upsert::__private::SqlitePlan {
                    upsert_sql: #upsert_sql,
                    insert_or_ignore_sql: #insert_or_ignore_sql,
                    returning_sql: #returning_sql,
                    probe_sql: #probe_sql,
                    single: #single,
                    chunks: &[#(#chunks),*],
                    unwritten: #unwritten,
                    affinities: &[#(#affinities),*],
                }
            },
            ..SqliteParts::default()
        };
        for (index, field) in container.fields.iter().enumerate() {
            let (member, ty, span) = (field.ident, field.ty, field.ty_span());
            let local = field.local_span();
            if field.is_unit() {
                parts.reads.push(quote!(#member: ()));
            } else {
                parts.decode_bounds.push(syn::parse_quote_spanned! {span=>
                    #ty: ::atomic_upsert::__private::SqlxDecode<'__r, __DB> + ::atomic_upsert::__private::SqlxType<__DB>
                });
                parts.reads.push(quote! {
                    #member: ::atomic_upsert::__private::read_sqlite::<__DB, #ty>(row, #index)?
                });
            }
            if !field.role.is_bound() {
                continue;
            }
            parts.bounds.push(syn::parse_quote_spanned! {span=>
                #ty: ::atomic_upsert::__private::SqliteColumn<__DB>
            });
            let bind = quote_spanned! {local=>
                let query = ::atomic_upsert::__private::bind_sqlite::<__DB, #ty>(query, &self.#member);
            };
            let row_bind = quote_spanned! {local=>
                let query = ::atomic_upsert::__private::bind_sqlite::<__DB, #ty>(query, &row.#member);
            };
            if field.role == Role::Key {
                parts.key_binds.push(bind.clone());
                parts.key_row_binds.push(row_bind.clone());
            }
            parts.binds.push(bind);
            parts.row_binds.push(row_bind);
        }
        Some(parts)
    }
}

/// `generics` with the database parameter `__DB: SqliteDb` last (the SQLite impls).
pub(super) fn with_database(generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__DB: ::atomic_upsert::__private::SqliteDb));
    generics
}

/// The SQLite impls of a struct SQLite cannot take: they require `__DB` to implement the
/// runtime's marker trait for `gap`, which nothing implements, so a call on SQLite fails
/// with that trait's message, at the attribute; a call on PostgreSQL is untouched. With no
/// gap, the stub impls of a struct the derive rejected: its calls on SQLite type-check, so
/// that the derive's error is the only one.
pub(super) fn sqlite_gap_impls(input: &DeriveInput, gap: Option<(Gap, Span)>) -> TokenStream {
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let generics = with_database(&input.generics);
    let (impl_generics, _, _) = generics.split_for_impl();
    let gap_where = where_clause(
        input,
        &gap_bound(gap.map(|(gap, span)| (gap.marker(), span))),
    );
    let stored_generics = with_row_lifetime(&generics);
    let (stored_impl_generics, _, _) = stored_generics.split_for_impl();
    quote! {
        ::atomic_upsert::__private::if_sqlite! {
        #[automatically_derived]
        impl #impl_generics ::atomic_upsert::__private::GeneratedSqlite<__DB> for #ident #ty_generics #gap_where {
            const SQLITE: ::atomic_upsert::__private::SqlitePlan = ::atomic_upsert::__private::SqlitePlan::NONE;

            fn bind_row_sqlite<'__q>(
                &'__q self,
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                query
            }

            fn bind_key_sqlite<'__q>(
                &'__q self,
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                query
            }

            fn bind_rows_sqlite<'__q>(
                _: &'__q [Self],
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                query
            }

            fn bind_key_rows_sqlite<'__q>(
                _: &'__q [Self],
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                query
            }
        }

        #[automatically_derived]
        impl #stored_impl_generics ::atomic_upsert::__private::FromStoredSqlite<'__r, __DB> for #ident #ty_generics #gap_where {
            fn from_stored_sqlite(
                _: &'__r <__DB as ::atomic_upsert::__private::SqlxDatabase>::Row,
            ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                ::core::result::Result::Err(::atomic_upsert::__private::SqlxError::RowNotFound)
            }
        }
        }
    }
}

/// The SQLite impls: `GeneratedSqlite<__DB>` and `FromStoredSqlite<'__r, __DB>`, generic over
/// `__DB: SqliteDb` so that a field type SQLite cannot take fails only a call on SQLite.
pub(super) fn sqlite_impls(input: &DeriveInput, parts: &SqliteParts) -> TokenStream {
    let SqliteParts {
        plan,
        bounds,
        binds,
        key_binds,
        row_binds,
        key_row_binds,
        decode_bounds,
        reads,
    } = parts;
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let generics = with_database(&input.generics);
    let (impl_generics, _, _) = generics.split_for_impl();
    let column_where = where_clause(input, bounds);
    let stored_generics = with_row_lifetime(&generics);
    let (stored_impl_generics, _, _) = stored_generics.split_for_impl();
    let mut decode_bounds = decode_bounds.clone();
    decode_bounds.push(syn::parse_quote!(
        usize: ::atomic_upsert::__private::ColumnIndex<<__DB as ::atomic_upsert::__private::SqlxDatabase>::Row>
    ));
    let decode_where = where_clause(input, &decode_bounds);
    // Each row's binds, row after row (a chunk statement's parameters).
    let each_row = |binds: &[TokenStream]| {
        quote! {
            let mut query = query;
            for row in rows {
                query = {
                    let query = query;
                    #(#binds)*
                    query
                };
            }
            query
        }
    };
    let (bind_each_row, bind_each_key) = (each_row(row_binds), each_row(key_row_binds));
    quote! {
        ::atomic_upsert::__private::if_sqlite! {
        #[automatically_derived]
        impl #impl_generics ::atomic_upsert::__private::GeneratedSqlite<__DB> for #ident #ty_generics #column_where {
            const SQLITE: ::atomic_upsert::__private::SqlitePlan = #plan;

            #[inline]
            fn bind_row_sqlite<'__q>(
                &'__q self,
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                #(#binds)*
                query
            }

            #[inline]
            fn bind_key_sqlite<'__q>(
                &'__q self,
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                #(#key_binds)*
                query
            }

            fn bind_rows_sqlite<'__q>(
                rows: &'__q [Self],
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                #bind_each_row
            }

            fn bind_key_rows_sqlite<'__q>(
                rows: &'__q [Self],
                query: ::atomic_upsert::__private::SqliteQuery<'__q, __DB>,
            ) -> ::atomic_upsert::__private::SqliteQuery<'__q, __DB> {
                #bind_each_key
            }
        }

        #[automatically_derived]
        impl #stored_impl_generics ::atomic_upsert::__private::FromStoredSqlite<'__r, __DB> for #ident #ty_generics #decode_where {
            fn from_stored_sqlite(
                row: &'__r <__DB as ::atomic_upsert::__private::SqlxDatabase>::Row,
            ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                let _ = row;
                ::core::result::Result::Ok(Self { #(#reads,)* })
            }
        }
        }
    }
}
