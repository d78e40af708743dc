//! The generated code: `impl AtomicUpsert` (the public constants), `impl Generated` (binds,
//! `COPY` rows and the plan the runtime reads) and `impl FromStored` (`upsert_returning`).
//!
//! [`Parts::new`] maps the checked struct to everything the impls hold (the statements come
//! from `upsert_core`); [`impls`] is the one `quote!` template, which also writes the
//! fallback impls from [`Parts::stub`].

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, GenericParam, WherePredicate};
use upsert_core::bulk::{self, Counts, Source};
use upsert_core::{Postgres, Role, Unwritten, single};

use crate::ast::Container;
use crate::check;
use crate::ctxt::Ctxt;

/// The whole expansion: the impls, or every error found plus stub impls so that the
/// user's code that calls the trait raises no second wave of errors.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let container = Container::from_ast(&mut cx, input);
    if let Some(container) = &container {
        check::check(&mut cx, input, container);
    }
    match (cx.check(), container) {
        (Ok(()), Some(container)) => impls(input, &Parts::new(&container)),
        (Err(errors), _) => {
            let mut tokens = errors.into_compile_error();
            tokens.extend(fallback(input));
            tokens
        }
        // `from_ast` returns `None` only after recording an error.
        (Ok(()), None) => TokenStream::new(),
    }
}

/// Stub impls beside the errors (thiserror's `fallback`), so that `T::UPSERT_SQL` or
/// `row.upsert(..)` elsewhere does not add "trait not implemented" errors to the real ones.
/// Skipped for type or const generics, where they could not be well-formed.
fn fallback(input: &DeriveInput) -> TokenStream {
    let has_type_params = input
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    if has_type_params {
        TokenStream::new()
    } else {
        impls(input, &Parts::stub())
    }
}

/// Everything the impls hold.
#[derive(Default)]
struct Parts {
    table: String,
    schema: Option<String>,
    conflict_columns: Vec<String>,
    upsert_sql: String,
    insert_or_ignore_sql: String,
    upsert_many_sql: String,
    upsert_returning_sql: String,
    /// The `Plan` constant of `Generated`.
    plan: TokenStream,
    /// One `T: Column` bound per sent field, spanned at the field's type.
    column_bounds: Vec<WherePredicate>,
    /// Marks skipped and server-set fields used (no dead-code warning in the user's crate).
    unsent: Vec<TokenStream>,
    /// The strategies' compile-time rules on field types.
    type_checks: Vec<TokenStream>,
    binds: Vec<TokenStream>,
    array_binds: Vec<TokenStream>,
    stage_types: Vec<TokenStream>,
    copy_fields: Vec<TokenStream>,
    /// One `T: Decode<'__r>` bound per field, for `FromStored`.
    decode_bounds: Vec<WherePredicate>,
    /// The body of `FromStored::from_stored`.
    from_stored: TokenStream,
}

impl Parts {
    /// The impls of a checked struct.
    fn new(container: &Container) -> Self {
        let model = container.model();
        let pg = &Postgres;
        // Every field's column, in field order, `skip` fields included.
        let returned: Vec<&str> = container.fields.iter().map(|f| f.column.as_str()).collect();
        let mut parts = Parts {
            table: container.table.clone(),
            schema: container.schema.clone(),
            conflict_columns: model.keys().iter().map(|c| c.name.to_owned()).collect(),
            upsert_sql: single::upsert(pg, &model),
            insert_or_ignore_sql: single::insert_or_ignore(pg, &model),
            upsert_many_sql: bulk::upsert_many(pg, &model, Source::Unnest),
            upsert_returning_sql: single::upsert_returning(pg, &model, &returned),
            plan: plan(
                &bulk::upsert_many(pg, &model, Source::Stage),
                &bulk::stage_copy(pg, &model),
                &model.bound().iter().map(|c| c.name).collect::<Vec<_>>(),
                Counts::of(&model),
                model.unwritten(),
            ),
            ..Parts::default()
        };
        let mut reads = Vec::new();
        for (index, field) in container.fields.iter().enumerate() {
            let (member, ty, span) = (field.ident, field.ty, field.ty_span());
            parts.decode_bounds.push(syn::parse_quote_spanned! {span=>
                #ty: ::atomic_upsert::__private::Decode<'__r>
            });
            reads.push(quote! {
                #member: ::atomic_upsert::__private::read(row, #index)?
            });
            if let Role::Combine(strategy) = field.role
                && let Some(check) = strategy.type_check()
            {
                let check = format_ident!("{check}");
                parts.type_checks.push(quote_spanned! {span=>
                    ::atomic_upsert::__private::#check::<#ty>();
                });
            }
            if !field.role.is_bound() {
                parts.unsent.push(quote!(&self.#member));
                continue;
            }
            // Spanned at the field's type: a type sqlx cannot encode is reported there,
            // once, by its `Column` bound; the bodies below may assume it.
            parts.column_bounds.push(syn::parse_quote_spanned! {span=>
                #ty: ::atomic_upsert::__private::Column
            });
            parts.binds.push(quote_spanned! {span=>
                let query = <#ty as ::atomic_upsert::__private::ColumnOps>::bind(query, &self.#member);
            });
            parts.array_binds.push(quote_spanned! {span=>
                let query = <#ty as ::atomic_upsert::__private::ColumnOps>::bind_array(query, rows, |row| &row.#member);
            });
            parts.stage_types.push(quote_spanned! {span=>
                <#ty as ::atomic_upsert::__private::ColumnOps>::type_info()
            });
            parts.copy_fields.push(quote_spanned! {span=>
                <#ty as ::atomic_upsert::__private::ColumnOps>::copy_into(&self.#member, out)?;
            });
        }
        parts.from_stored = quote!(::core::result::Result::Ok(Self { #(#reads,)* }));
        parts
    }

    /// Impls that compile whatever the fields are, beside the errors.
    fn stub() -> Self {
        Parts {
            plan: plan("", "", &[], Counts::Guarded, Unwritten::Skipped),
            from_stored: quote!(::core::result::Result::Err(
                ::atomic_upsert::__private::SqlxError::RowNotFound
            )),
            ..Parts::default()
        }
    }
}

/// The `Plan` constant.
fn plan(
    stage_upsert_sql: &str,
    stage_copy_sql: &str,
    stage_columns: &[&str],
    counts: Counts,
    unwritten: Unwritten,
) -> TokenStream {
    let counts = match counts {
        Counts::Keys { updates } => {
            quote!(::atomic_upsert::__private::Counts::Keys { updates: #updates })
        }
        Counts::Guarded => quote!(::atomic_upsert::__private::Counts::Guarded),
    };
    let unwritten = match unwritten {
        Unwritten::Skipped => quote!(Skipped),
        Unwritten::Unchanged => quote!(Unchanged),
        Unwritten::Told => quote!(Told),
    };
    quote! {
        ::atomic_upsert::__private::Plan {
            stage_upsert_sql: #stage_upsert_sql,
            stage_copy_sql: #stage_copy_sql,
            stage_columns: &[#(#stage_columns),*],
            counts: #counts,
            unwritten: ::atomic_upsert::__private::Unwritten::#unwritten,
        }
    }
}

/// `where` with the struct's own predicates plus `extra`.
fn where_clause(input: &DeriveInput, extra: &[WherePredicate]) -> syn::WhereClause {
    let mut clause = input
        .generics
        .where_clause
        .clone()
        .unwrap_or_else(|| syn::WhereClause {
            where_token: <syn::Token![where]>::default(),
            predicates: syn::punctuated::Punctuated::new(),
        });
    clause.predicates.extend(extra.iter().cloned());
    clause
}

/// The template: the three impls in `const _: () = { .. };`.
///
/// `FromStored<'r>` reads the struct back from the columns `UPSERT_RETURNING_SQL` returns,
/// in field order. Every field type must decode from a row borrowed for `'r`; a struct
/// with a field that cannot (a borrowed `&'a str`, a `()` placeholder) gets an impl whose
/// bounds never hold, so only a call to `upsert_returning` reports it.
fn impls(input: &DeriveInput, parts: &Parts) -> TokenStream {
    let Parts {
        table,
        schema,
        conflict_columns,
        upsert_sql,
        insert_or_ignore_sql,
        upsert_many_sql,
        upsert_returning_sql,
        plan,
        column_bounds,
        unsent,
        type_checks,
        binds,
        array_binds,
        stage_types,
        copy_fields,
        decode_bounds,
        from_stored,
    } = parts;
    let ident = &input.ident;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    // The `Column` bounds go on both impls: on `Generated`, whose bodies need them, and on
    // `AtomicUpsert`, so that its `Generated` supertrait obligation holds under them and a
    // field type that cannot be sent is reported once, under the field, not at the struct.
    let column_where = where_clause(input, column_bounds);
    let decode_where = where_clause(input, decode_bounds);
    let mut stored_generics = input.generics.clone();
    stored_generics.params.insert(0, syn::parse_quote!('__r));
    let (stored_impl_generics, _, _) = stored_generics.split_for_impl();
    let schema = schema.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |schema| quote!(::core::option::Option::Some(#schema)),
    );
    let unsent = (!unsent.is_empty()).then(|| quote!(let _ = (#(#unsent,)*);));
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::AtomicUpsert for #ident #ty_generics #column_where {
                const TABLE: &'static str = #table;
                const SCHEMA: ::core::option::Option<&'static str> = #schema;
                const CONFLICT_COLUMNS: &'static [&'static str] = &[#(#conflict_columns),*];
                const UPSERT_SQL: &'static str = #upsert_sql;
                const INSERT_OR_IGNORE_SQL: &'static str = #insert_or_ignore_sql;
                const UPSERT_MANY_SQL: &'static str = #upsert_many_sql;
                const UPSERT_RETURNING_SQL: &'static str = #upsert_returning_sql;
            }

            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::__private::Generated for #ident #ty_generics #column_where {
                const PLAN: ::atomic_upsert::__private::Plan = #plan;

                #[inline]
                fn bind_row<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    #unsent
                    #(#type_checks)*
                    #(#binds)*
                    query
                }

                #[inline]
                fn bind_rows<'__q>(
                    rows: &'__q [Self],
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    let _ = rows;
                    #(#array_binds)*
                    query
                }

                fn stage_types() -> ::std::vec::Vec<::atomic_upsert::__private::PgTypeInfo> {
                    ::std::vec![#(#stage_types),*]
                }

                fn copy_row(
                    &self,
                    out: &mut ::atomic_upsert::__private::CopyBuffer,
                ) -> ::core::result::Result<(), ::atomic_upsert::__private::BoxDynError> {
                    let _ = out;
                    #(#copy_fields)*
                    ::core::result::Result::Ok(())
                }
            }

            #[automatically_derived]
            impl #stored_impl_generics ::atomic_upsert::__private::FromStored<'__r> for #ident #ty_generics #decode_where {
                fn from_stored(
                    row: &'__r ::atomic_upsert::__private::PgRow,
                ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                    let _ = row;
                    #from_stored
                }
            }
        };
    }
}
