//! The generated impl: SQL constants plus a `__bind` that binds the fields in order.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{DeriveInput, GenericParam};

use crate::ast::{Container, Role};
use crate::ctxt::Ctxt;
use crate::{check, sql};

/// The whole expansion: the impl, or every error found plus a stub impl so that the
/// user's code that calls the trait raises no second wave of errors.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let container = Container::from_ast(&mut cx, input);
    if let Some(container) = &container {
        check::check(&mut cx, input, container);
    }
    match (cx.check(), container) {
        (Ok(()), Some(container)) => impl_atomic_upsert(input, &container),
        (Err(errors), _) => {
            let mut tokens = errors.into_compile_error();
            tokens.extend(fallback(input));
            tokens
        }
        // `from_ast` returns `None` only after recording an error.
        (Ok(()), None) => TokenStream::new(),
    }
}

// One `quote!` template for the whole impl; splitting it would scatter the impl's items.
#[allow(clippy::too_many_lines)]
fn impl_atomic_upsert(input: &DeriveInput, container: &Container) -> TokenStream {
    let table = container.table();
    let schema = container.schema();
    let names: Vec<String> = container
        .fields
        .iter()
        .map(crate::ast::Field::column)
        .collect();
    let mut columns = Vec::new();
    let mut binds = Vec::new();
    let mut conflict_columns = Vec::new();
    let mut unsent = Vec::new();
    let mut bound_names = Vec::new();
    let mut array_binds = Vec::new();
    let mut stage_types = Vec::new();
    let mut copy_fields = Vec::new();
    let mut type_rules = Vec::new();
    for (field, name) in container.fields.iter().zip(&names) {
        let role = field.role();
        if !role.is_bound() {
            // A skipped or server-set field is declared but its value never sent; mark it
            // used so the user's crate gets no dead-code warning for it.
            let member = field.ident;
            unsent.push(quote!(&self.#member));
        }
        let (insert, update) = match role {
            Role::Skip => continue,
            Role::Key => (sql::Insert::Bind, sql::Update::Key),
            Role::Write | Role::Version => (sql::Insert::Bind, sql::Update::Replace),
            Role::InsertOnly => (sql::Insert::Bind, sql::Update::Keep),
            Role::CreatedAt => (sql::Insert::Now, sql::Update::Keep),
            Role::UpdatedAt => (sql::Insert::Now, sql::Update::Now),
            Role::Add => (sql::Insert::Bind, sql::Update::Add),
            Role::Greatest => (sql::Insert::Bind, sql::Update::Greatest),
            Role::Least => (sql::Insert::Bind, sql::Update::Least),
            Role::Coalesce => (sql::Insert::Bind, sql::Update::Coalesce),
            Role::Merge => (sql::Insert::Bind, sql::Update::Merge),
        };
        // A strategy's type rule, checked where the field's type is written.
        let ty = field.ty;
        let type_rule = match role {
            Role::Add => Some(quote!(assert_numeric)),
            Role::Coalesce => Some(quote!(assert_nullable)),
            Role::Merge => Some(quote!(assert_jsonb)),
            _ => None,
        };
        if let Some(rule) = type_rule {
            type_rules.push(quote_spanned! {field.ty_span()=>
                ::atomic_upsert::__private::#rule::<#ty>();
            });
        }
        if role == Role::Key {
            conflict_columns.push(name.as_str());
        }
        if role.is_bound() {
            let (member, ty) = (field.ident, field.ty);
            // Spanned at the field's type: a type sqlx cannot encode is reported there.
            binds.push(quote_spanned! {field.ty_span()=>
                let query = <#ty as ::atomic_upsert::__private::ColumnOps>::bind(query, &self.#member);
            });
            array_binds.push(quote_spanned! {field.ty_span()=>
                let query = <#ty as ::atomic_upsert::__private::ColumnOps>::bind_array(query, rows, |row| &row.#member);
            });
            stage_types.push(quote_spanned! {field.ty_span()=>
                <#ty as ::atomic_upsert::__private::ColumnOps>::type_info()
            });
            copy_fields.push(quote_spanned! {field.ty_span()=>
                <#ty as ::atomic_upsert::__private::ColumnOps>::copy_into(&self.#member, out)?;
            });
            bound_names.push(name.as_str());
        }
        columns.push(sql::Column {
            name,
            insert,
            update,
        });
    }
    let unsent = (!unsent.is_empty()).then(|| quote!(let _ = (#(#unsent,)*);));
    let attrs = &container.attrs;
    let version_column = container.version().map(crate::ast::Field::column);
    let constraint = attrs.constraint.get().map(syn::LitStr::value);
    let conflict_where = attrs.conflict_where.get().map(syn::LitStr::value);
    let update_where = attrs.update_where.get().map(syn::LitStr::value);
    let guard = sql::Guard {
        version: version_column.as_deref(),
        update_where: update_where.as_deref(),
        skip_unchanged: attrs.skip_unchanged.get().is_some(),
    };
    let model = sql::Model {
        table: sql::Table {
            schema: schema.as_deref(),
            name: &table,
        },
        columns: &columns,
        target: constraint.as_deref().map_or(
            sql::Target::Keys {
                predicate: conflict_where.as_deref(),
            },
            sql::Target::Constraint,
        ),
        guard,
    };
    // A row that no guard but `skip_unchanged` can stop, and that comes back unwritten,
    // was unchanged. Beside `version` or `update_where`, the statement itself returns a
    // NULL row for an unchanged one, and no row means the other guard held it back.
    let unwritten_is_unchanged =
        guard.skip_unchanged && guard.version.is_none() && guard.update_where.is_none();
    let guarded = guard.any();
    // Every field's column, in field order, `skip` fields included.
    let returned: Vec<&str> = names.iter().map(String::as_str).collect();
    let returning_sql = sql::upsert_returning(sql::Dialect::Postgres, &model, &returned);
    let upsert_sql = sql::upsert(sql::Dialect::Postgres, &model);
    let ignore_sql = sql::insert_or_ignore(sql::Dialect::Postgres, &model);
    let many_sql = sql::upsert_many(sql::Dialect::Postgres, &model, sql::Source::Unnest);
    let stage_sql = sql::upsert_many(sql::Dialect::Postgres, &model, sql::Source::Stage);
    let copy_sql = sql::stage_copy(sql::Dialect::Postgres, &columns);
    let updates_on_conflict = sql::has_updates(&columns);
    let schema = if let Some(schema) = &schema {
        quote!(::core::option::Option::Some(#schema))
    } else {
        quote!(::core::option::Option::None)
    };

    let ident = &input.ident;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    // One bound per sent field type, spanned at the type: a type that cannot be sent fails
    // here, once, under the field, and the method bodies below may assume it.
    let mut where_clause =
        input
            .generics
            .where_clause
            .clone()
            .unwrap_or_else(|| syn::WhereClause {
                where_token: <syn::Token![where]>::default(),
                predicates: syn::punctuated::Punctuated::new(),
            });
    for field in container
        .fields
        .iter()
        .filter(|field| field.role().is_bound())
    {
        let ty = field.ty;
        where_clause
            .predicates
            .push(syn::parse_quote_spanned! {field.ty_span()=>
                #ty: ::atomic_upsert::__private::Column
            });
    }
    let from_stored = from_stored(input, container);
    quote! {
        const _: () = {
            #from_stored

            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::AtomicUpsert for #ident #ty_generics #where_clause {
                const TABLE: &'static str = #table;
                const SCHEMA: ::core::option::Option<&'static str> = #schema;
                const CONFLICT_COLUMNS: &'static [&'static str] = &[#(#conflict_columns),*];
                const UPSERT_SQL: &'static str = #upsert_sql;
                const INSERT_OR_IGNORE_SQL: &'static str = #ignore_sql;
                const UPSERT_MANY_SQL: &'static str = #many_sql;
                const __STAGE_UPSERT_SQL: &'static str = #stage_sql;
                const __STAGE_COPY_SQL: &'static str = #copy_sql;
                const __STAGE_COLUMNS: &'static [&'static str] = &[#(#bound_names),*];
                const __UPDATES_ON_CONFLICT: bool = #updates_on_conflict;
                const UPSERT_RETURNING_SQL: &'static str = #returning_sql;
                const __GUARDED: bool = #guarded;
                const __UNWRITTEN_IS_UNCHANGED: bool = #unwritten_is_unchanged;

                #[inline]
                fn __bind<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    #unsent
                    #(#type_rules)*
                    #(#binds)*
                    query
                }

                #[inline]
                fn __bind_many<'__q>(
                    rows: &'__q [Self],
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    #(#array_binds)*
                    query
                }

                fn __stage_types() -> ::std::vec::Vec<::atomic_upsert::__private::PgTypeInfo> {
                    ::std::vec![#(#stage_types),*]
                }

                fn __copy_row(
                    &self,
                    out: &mut ::atomic_upsert::__private::CopyBuffer,
                ) -> ::core::result::Result<(), ::atomic_upsert::__private::BoxDynError> {
                    #(#copy_fields)*
                    ::core::result::Result::Ok(())
                }
            }
        };
    }
}

/// `FromStored<'r>`: the struct read back from the columns `UPSERT_RETURNING_SQL` returns,
/// in field order. Every field type must decode from a row borrowed for `'r`; a struct
/// with a field that cannot (a borrowed `&'a str`, a `()` placeholder) gets an impl whose
/// bounds never hold, so only a call to `upsert_returning` reports it.
fn from_stored(input: &DeriveInput, container: &Container) -> TokenStream {
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    generics.params.insert(0, syn::parse_quote!('__r));
    let (impl_generics, _, _) = generics.split_for_impl();
    let (_, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause.cloned().unwrap_or_else(|| syn::WhereClause {
        where_token: <syn::Token![where]>::default(),
        predicates: syn::punctuated::Punctuated::new(),
    });
    let mut reads = Vec::new();
    for (index, field) in container.fields.iter().enumerate() {
        let (member, ty) = (field.ident, field.ty);
        where_clause
            .predicates
            .push(syn::parse_quote_spanned! {field.ty_span()=>
                #ty: ::atomic_upsert::__private::Decode<'__r>
            });
        reads.push(quote! {
            #member: ::atomic_upsert::__private::read(row, #index)?
        });
    }
    quote! {
        #[automatically_derived]
        impl #impl_generics ::atomic_upsert::__private::FromStored<'__r> for #ident #ty_generics #where_clause {
            fn __from_stored(
                row: &'__r ::atomic_upsert::__private::PgRow,
            ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                ::core::result::Result::Ok(Self { #(#reads,)* })
            }
        }
    }
}

/// A do-nothing impl emitted beside the errors (thiserror's `fallback`), so that
/// `T::UPSERT_SQL` or `row.upsert(..)` elsewhere does not add "trait not implemented"
/// errors to the real ones. Skipped for type or const generics, where it could not be
/// well-formed.
fn fallback(input: &DeriveInput) -> TokenStream {
    let has_type_params = input
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    if has_type_params {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::AtomicUpsert for #ident #ty_generics #where_clause {
                const TABLE: &'static str = "";
                const SCHEMA: ::core::option::Option<&'static str> = ::core::option::Option::None;
                const CONFLICT_COLUMNS: &'static [&'static str] = &[];
                const UPSERT_SQL: &'static str = "";
                const INSERT_OR_IGNORE_SQL: &'static str = "";
                const UPSERT_MANY_SQL: &'static str = "";
                const __STAGE_UPSERT_SQL: &'static str = "";
                const __STAGE_COPY_SQL: &'static str = "";
                const __STAGE_COLUMNS: &'static [&'static str] = &[];
                const __UPDATES_ON_CONFLICT: bool = false;
                const UPSERT_RETURNING_SQL: &'static str = "";

                fn __bind<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    query
                }

                fn __bind_many<'__q>(
                    _: &'__q [Self],
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    query
                }

                fn __stage_types() -> ::std::vec::Vec<::atomic_upsert::__private::PgTypeInfo> {
                    ::std::vec::Vec::new()
                }

                fn __copy_row(
                    &self,
                    _: &mut ::atomic_upsert::__private::CopyBuffer,
                ) -> ::core::result::Result<(), ::atomic_upsert::__private::BoxDynError> {
                    ::core::result::Result::Ok(())
                }
            }
        };
    }
}
