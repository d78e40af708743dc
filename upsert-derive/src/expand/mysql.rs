//! The MySQL side of the expansion: `GeneratedMySql`, inside the runtime's `if_mysql!`, so
//! that it expands to nothing (and costs nothing to compile) without the `mysql` feature;
//! or, for a struct MySQL cannot take, an impl that names what it lacks ([`Gap`]) at the
//! attribute.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{DeriveInput, WherePredicate};
use upsert_core::Model;
use upsert_core::mysql::{Gap, statements};

use super::postgres::unwritten_tokens;
use super::{gap_bound, where_clause, with_row_lifetime};
use crate::ast::Container;

/// The tokens that ask for what MySQL lacks.
pub(super) fn gap_span(container: &Container, gap: Gap) -> Span {
    let attrs = &container.attrs;
    let fields = || container.fields.iter();
    let span = match gap {
        Gap::Constraint => attrs.constraint.span(),
        Gap::PartialIndex => attrs.conflict_where.span(),
        Gap::NullsNotDistinct => attrs.nulls_not_distinct.span(),
        Gap::UpdateWhere => attrs.update_where.span(),
        Gap::GuardWithSkipUnchanged => attrs.skip_unchanged.span(),
        Gap::Cast => fields().find_map(|f| f.attrs.sql_type.span().or(f.attrs.collate.span())),
        Gap::SentValue => {
            fields().find_map(|f| f.attrs.default.span().or(f.attrs.update_from.span()))
        }
        Gap::Array => fields()
            .find(|f| f.is_array())
            .map(crate::ast::Field::ty_span),
        Gap::Merge => fields().find_map(|f| {
            (f.role == upsert_core::Role::Combine(upsert_core::Strategy::Merge))
                .then(|| f.attrs.flags.first().map(|(span, _)| *span))
                .flatten()
        }),
    };
    span.unwrap_or_else(|| container.ident.span())
}

/// What the MySQL impl holds.
pub(super) struct MySqlParts {
    plan: TokenStream,
    /// One `T: Decode<'__r, __DB> + Type<__DB>` bound per read field.
    decode_bounds: Vec<WherePredicate>,
    /// The fields read back, in field order (`FromStoredMySql`).
    reads: Vec<TokenStream>,
    /// One `T: MySqlColumn` bound per sent field.
    bounds: Vec<WherePredicate>,
    binds: Vec<TokenStream>,
    /// One `match` arm per sent field: its index to sqlx's rule for its column types.
    fits: Vec<TokenStream>,
}

impl MySqlParts {
    /// MySQL's statements and binds for `container`, or `None` when MySQL cannot take it.
    pub(super) fn new(container: &Container, model: &Model) -> Option<Self> {
        if Gap::of(model).is_some() {
            return None;
        }
        let chunks = statements::chunk_rows(model).into_iter().map(|rows| {
            let upsert_sql = statements::upsert_many(model, rows);
            quote! {
                ::atomic_upsert::__private::MySqlChunk { rows: #rows, upsert_sql: #upsert_sql }
            }
        });
        let upsert_sql = statements::upsert(model);
        let insert_or_ignore_sql = statements::insert_or_ignore(model);
        let columns: Vec<&str> = container.fields.iter().map(|f| f.column.as_str()).collect();
        let returning_sql = statements::upsert_returning(model, &columns);
        let unwritten = unwritten_tokens(model.unwritten());
        let mut parts = MySqlParts {
            plan: quote! {
                ::atomic_upsert::__private::MySqlPlan {
                    upsert_sql: #upsert_sql,
                    insert_or_ignore_sql: #insert_or_ignore_sql,
                    returning_sql: #returning_sql,
                    chunks: &[#(#chunks),*],
                    unwritten: #unwritten,
                }
            },
            decode_bounds: Vec::new(),
            reads: Vec::new(),
            bounds: Vec::new(),
            binds: Vec::new(),
            fits: Vec::new(),
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
                    #member: ::atomic_upsert::__private::read_mysql::<__DB, #ty>(row, #index)?
                });
            }
            if !field.role.is_bound() {
                continue;
            }
            parts.bounds.push(syn::parse_quote_spanned! {span=>
                #ty: ::atomic_upsert::__private::MySqlColumn<__DB>
            });
            parts.binds.push(quote_spanned! {local=>
                let query = ::atomic_upsert::__private::bind_mysql::<__DB, #ty>(query, &self.#member);
            });
            parts.fits.push(quote_spanned! {local=>
                #index => <#ty as ::atomic_upsert::__private::SqlxType<__DB>>::compatible(column),
            });
        }
        Some(parts)
    }
}

/// `impl GeneratedMySql`, inside `if_mysql!`.
pub(super) fn mysql_impls(input: &DeriveInput, parts: &MySqlParts) -> TokenStream {
    let MySqlParts {
        plan,
        decode_bounds,
        reads,
        bounds,
        binds,
        fits,
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
    quote! {
        ::atomic_upsert::__private::if_mysql! {
            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::__private::GeneratedMySql<__DB> for #ident #ty_generics #column_where {
                const MYSQL: ::atomic_upsert::__private::MySqlPlan = #plan;

                #[inline]
                fn bind_row_mysql<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::MySqlQuery<'__q, __DB>,
                ) -> ::atomic_upsert::__private::MySqlQuery<'__q, __DB> {
                    #(#binds)*
                    query
                }

                #[inline]
                fn column_fits(
                    field: usize,
                    column: &<__DB as ::atomic_upsert::__private::SqlxDatabase>::TypeInfo,
                ) -> bool {
                    let _ = column;
                    match field {
                        #(#fits)*
                        _ => true,
                    }
                }
            }

            #[automatically_derived]
            impl #stored_impl_generics ::atomic_upsert::__private::FromStoredMySql<'__r, __DB> for #ident #ty_generics #decode_where {
                fn from_stored_mysql(
                    row: &'__r <__DB as ::atomic_upsert::__private::SqlxDatabase>::Row,
                ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                    let _ = row;
                    ::core::result::Result::Ok(Self { #(#reads,)* })
                }
            }
        }
    }
}

/// `generics` with the database parameter `__DB: MySqlDb` last: the impls are generic over
/// it, so that a field type MySQL cannot take fails a call on MySQL, not the struct.
fn with_database(generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__DB: ::atomic_upsert::__private::MySqlDb));
    generics
}

/// The MySQL impl of a struct MySQL cannot take: for any database tag `__DB` that
/// implements the runtime's marker trait for `gap`, which nothing does, so a call on MySQL
/// fails with that trait's message, at the attribute. With no gap, the stub impls of a
/// struct the derive rejected: its calls on MySQL type-check, so that the derive's error is
/// the only one.
pub(super) fn mysql_gap_impls(input: &DeriveInput, gap: Option<(Gap, Span)>) -> TokenStream {
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
        ::atomic_upsert::__private::if_mysql! {
            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::__private::GeneratedMySql<__DB> for #ident #ty_generics #gap_where {
                const MYSQL: ::atomic_upsert::__private::MySqlPlan = ::atomic_upsert::__private::MySqlPlan::NONE;

                fn bind_row_mysql<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::MySqlQuery<'__q, __DB>,
                ) -> ::atomic_upsert::__private::MySqlQuery<'__q, __DB> {
                    query
                }

                fn column_fits(
                    _: usize,
                    _: &<__DB as ::atomic_upsert::__private::SqlxDatabase>::TypeInfo,
                ) -> bool {
                    true
                }
            }

            #[automatically_derived]
            impl #stored_impl_generics ::atomic_upsert::__private::FromStoredMySql<'__r, __DB> for #ident #ty_generics #gap_where {
                fn from_stored_mysql(
                    _: &'__r <__DB as ::atomic_upsert::__private::SqlxDatabase>::Row,
                ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                    ::core::result::Result::Err(::atomic_upsert::__private::SqlxError::RowNotFound)
                }
            }
        }
    }
}
