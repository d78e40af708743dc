//! The generated code: `impl AtomicUpsert` (the public constants), `impl Generated` (binds,
//! `COPY` rows and the plan the runtime reads) and `impl FromStored` (`upsert_returning`).
//!
//! [`Parts::new`] maps the checked struct to everything the impls hold (the statements come
//! from `upsert_core`); [`impls`] is the one `quote!` template, which also writes the
//! fallback impls from [`Parts::stub`].

use proc_macro2::Span;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, GenericParam, WherePredicate};

use upsert_core::postgres::counts::Counts;
use upsert_core::postgres::plan::Statements;

use upsert_core::sqlite::Gap;
use upsert_core::{ConflictTarget, InsertFlag, NullKeys, Role, Unwritten, single};

use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::{check, snapshot};

mod mysql;
mod postgres;
mod sqlite;

use mysql::{MySqlParts, mysql_gap_impls, mysql_impls};
use postgres::{
    PlanParts, add_signs, column_traits, field_spec, from_stored_impl, key_order, option_str, plan,
    presorted, returning_old, target_tokens,
};
use sqlite::{SqliteParts, gap_span, sqlite_gap_impls, sqlite_impls};

/// The backends besides PostgreSQL that the expansion writes impls for. The derive's
/// `sqlite` and `mysql` features say which (the facade's features of the same name turn
/// them on), so a struct costs the macro and the compiler nothing for a backend the build
/// leaves off. The runtime's `if_sqlite!` / `if_mysql!` around those impls stay, for a
/// build that turns the derive's feature on without the runtime's.
#[derive(Clone, Copy, Default)]
pub struct Backends {
    pub sqlite: bool,
    pub mysql: bool,
}

impl Backends {
    /// This build's: the derive's features.
    pub const ENABLED: Backends = Backends {
        sqlite: cfg!(feature = "sqlite"),
        mysql: cfg!(feature = "mysql"),
    };

    /// Every backend (the expansion snapshots show them all, whatever the build).
    #[cfg(test)]
    pub const ALL: Backends = Backends {
        sqlite: true,
        mysql: true,
    };
}

/// The whole expansion: the impls, or every error found plus stub impls so that the
/// user's code that calls the trait raises no second wave of errors.
pub fn derive(input: &DeriveInput, backends: Backends) -> TokenStream {
    let mut cx = Ctxt::default();
    let container = Container::from_ast(&mut cx, input);
    let mut tracking = TokenStream::new();
    if let Some(container) = &container {
        check::check(&mut cx, input, container);
        if !cx.has_errors() {
            tracking = snapshot::check(&mut cx, container);
        }
    }
    let mut tokens = match (cx.check(), container) {
        (Ok(()), Some(container)) => impls(input, &Parts::new(&container, backends)),
        (Err(errors), _) => {
            let mut tokens = errors.into_compile_error();
            tokens.extend(fallback(input, backends));
            tokens
        }
        // `from_ast` returns `None` only after recording an error.
        (Ok(()), None) => TokenStream::new(),
    };
    if !tracking.is_empty() {
        tokens.extend(quote!(const _: () = { #tracking };));
    }
    tokens
}

/// Stub impls beside the errors (thiserror's `fallback`), so that `T::UPSERT_SQL` or
/// `row.upsert(..)` elsewhere does not add "trait not implemented" errors to the real ones.
/// Skipped for type or const generics, where they could not be well-formed.
fn fallback(input: &DeriveInput, backends: Backends) -> TokenStream {
    let has_type_params = input
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    if has_type_params {
        TokenStream::new()
    } else {
        impls(input, &Parts::stub(backends))
    }
}

/// Everything the impls hold.
#[derive(Default)]
struct Parts {
    table: String,
    schema: Option<String>,
    conflict_columns: Vec<String>,
    /// Whether replaying a call is harmless (`IDEMPOTENT`).
    idempotent: bool,
    /// The `Plan` constant of `Generated`.
    plan: TokenStream,
    /// One `T: Column` bound per sent field, spanned at the field's type.
    column_bounds: Vec<WherePredicate>,
    /// Marks skipped and server-set fields used (no dead-code warning in the user's crate).
    unsent: Vec<TokenStream>,
    /// The strategies' compile-time rules on field types.
    type_checks: Vec<TokenStream>,
    binds: Vec<TokenStream>,
    key_binds: Vec<TokenStream>,
    array_binds: Vec<TokenStream>,
    /// `key_cmp` and `key_is_null`, for a model that can go presorted.
    key_order: TokenStream,
    /// `add_signs`, for a struct with `add` fields.
    add_signs: TokenStream,
    stage_types: Vec<TokenStream>,
    copy_fields: Vec<TokenStream>,
    /// One `T: Decode<'__r>` bound per field, for `FromStored`.
    decode_bounds: Vec<WherePredicate>,
    /// The body of `FromStored::from_stored`.
    from_stored: TokenStream,
    /// The struct's registration for `verify_all`.
    registration: TokenStream,
    /// The SQLite impls, when SQLite can take the struct.
    sqlite: Option<SqliteParts>,
    /// What SQLite lacks that the struct uses, and the tokens that ask for it.
    sqlite_gap: Option<(Gap, Span)>,
    /// The MySQL impl (inside `if_mysql!`), when MySQL can take the struct.
    mysql: Option<MySqlParts>,
    /// What MySQL lacks that the struct uses, and the tokens that ask for it.
    mysql_gap: Option<(upsert_core::mysql::Gap, Span)>,
    /// The stub of a struct the derive rejected: every backend's impls, with no plan.
    stub: bool,
    /// The backends besides PostgreSQL that get impls.
    backends: Backends,
}

impl Parts {
    /// The impls of a checked struct.
    fn new(container: &Container, backends: Backends) -> Self {
        let model = container.model();
        let returned = returned_columns(container);
        let mut parts = Parts {
            table: container.table.clone(),
            schema: container.schema.clone(),
            conflict_columns: model.keys().iter().map(|c| c.name.to_owned()).collect(),
            idempotent: model.idempotent(),
            key_order: key_order(container, &model),
            add_signs: add_signs(container),
            plan: plan(&PlanParts {
                sql: Statements::of(&model, &returned),
                presorted: presorted(&model),
                stage_columns: &model.bound().iter().map(|c| c.name).collect::<Vec<_>>(),
                counts: Counts::of(&model),
                unwritten: model.unwritten(),
                struct_name: &container.ident.to_string(),
                fields: &container.fields.iter().map(field_spec).collect::<Vec<_>>(),
                target: target_tokens(model.target),
                update_where: model.guard.update_where,
                skip_unchanged: model.guard.skip_unchanged,
                nulls_not_distinct: model.null_keys == NullKeys::NotDistinct,
                returning_old: (model.flag == InsertFlag::Marker)
                    .then(|| returning_old(&model.clone().with_flag(InsertFlag::Old))),
            }),
            backends,
            ..Parts::default()
        };
        let mut reads = Vec::new();
        for (index, field) in container.fields.iter().enumerate() {
            let (member, ty, span) = (field.ident, field.ty, field.ty_span());
            let local = field.local_span();
            if field.is_unit() {
                // A `()` placeholder (a server timestamp's field) holds nothing to read back.
                reads.push(quote!(#member: ()));
            } else {
                parts.decode_bounds.push(syn::parse_quote_spanned! {span=>
                    #ty: ::atomic_upsert::__private::Decode<'__r>
                });
                reads.push(quote! {
                    #member: ::atomic_upsert::__private::read(row, #index)?
                });
            }
            if let Role::Combine(strategy) = field.role
                && let Some(check) = strategy.type_check()
            {
                let check = format_ident!("{check}");
                parts.type_checks.push(quote_spanned! {local=>
                    ::atomic_upsert::__private::#check::<#ty>();
                });
            }
            if !field.role.is_bound() {
                parts.unsent.push(quote!(&self.#member));
                continue;
            }
            // Spanned at the field's type: a type sqlx cannot encode is reported there,
            // once, by its `Column` (or `ArrayColumn`) bound; the bodies below may assume it.
            let (bound, ops) = column_traits(field);
            parts.column_bounds.push(syn::parse_quote_spanned! {span=>
                #ty: ::atomic_upsert::__private::#bound
            });
            let bind = quote_spanned! {local=>
                let query = <#ty as ::atomic_upsert::__private::#ops>::bind(query, &self.#member);
            };
            if field.role == Role::Key {
                parts.key_binds.push(bind.clone());
            }
            parts.binds.push(bind);
            parts.array_binds.push(quote_spanned! {local=>
                let query = <#ty as ::atomic_upsert::__private::#ops>::bind_column(query, {
                    let mut column = ::std::vec::Vec::with_capacity(rows.len());
                    for &row in rows {
                        column.push(&row.#member);
                    }
                    column
                });
            });
            parts.stage_types.push(quote_spanned! {local=>
                <#ty as ::atomic_upsert::__private::#ops>::type_info()
            });
            parts.copy_fields.push(quote_spanned! {local=>
                <#ty as ::atomic_upsert::__private::#ops>::copy_into(&self.#member, out)?;
            });
        }
        parts.from_stored = quote!(::core::result::Result::Ok(Self { #(#reads,)* }));
        parts.registration = registration(container, backends);
        if backends.sqlite {
            // SQLite has no partitions: its statements never take the partitioned flag.
            parts.sqlite = SqliteParts::new(container, &model.clone().with_flag(InsertFlag::Xmax));
            parts.sqlite_gap = Gap::of(&model).map(|gap| (gap, gap_span(container, gap)));
        }
        if backends.mysql {
            // MySQL has no partitions either, and tells inserts by `LAST_INSERT_ID`.
            let plain = model.clone().with_flag(InsertFlag::Xmax);
            parts.mysql = MySqlParts::new(container, &plain);
            parts.mysql_gap = upsert_core::mysql::Gap::of(&plain)
                .map(|gap| (gap, mysql::gap_span(container, gap)));
        }
        parts
    }

    /// Impls that compile whatever the fields are, beside the errors.
    fn stub(backends: Backends) -> Self {
        Parts {
            plan: plan(&PlanParts {
                sql: Statements::default(),
                presorted: None,
                stage_columns: &[],
                counts: Counts::Guarded,
                unwritten: Unwritten::Skipped,
                struct_name: "",
                fields: &[],
                target: target_tokens(ConflictTarget::Keys { predicate: None }),
                update_where: None,
                skip_unchanged: false,
                nulls_not_distinct: false,
                returning_old: None,
            }),
            from_stored: quote!(::core::result::Result::Err(
                ::atomic_upsert::__private::SqlxError::RowNotFound
            )),
            stub: true,
            backends,
            ..Parts::default()
        }
    }
}

/// Every field's column, in field order, `skip` fields included, with the cast that reads it
/// back as the field's type.
fn returned_columns<'c>(container: &'c Container) -> Vec<single::Returned<'c>> {
    container
        .fields
        .iter()
        .map(|f| single::Returned {
            name: &f.column,
            cast: upsert_core::verify::returning_cast(&f.type_text()),
        })
        .collect()
}

/// Registers the struct for `verify_all`. The registration must not name the struct's impls:
/// when a field type cannot be sent, their `Column` bounds fail (one error, at the field)
/// and naming them here would add more errors. So it asks by autoref whether the struct
/// (its lifetimes as `'static`) is an `AtomicUpsert`: if so it gets the runtime's `verify`
/// of that struct, which reads the plan; if not (a build that fails at the field anyway)
/// a verify that checks nothing.
fn registration(container: &Container, backends: Backends) -> TokenStream {
    let name = container.ident.to_string();
    let lifetimes: Vec<Ident> = container.lifetimes.clone();
    let ident = &container.ident;
    let ty = if lifetimes.is_empty() {
        quote!(#ident)
    } else {
        let statics = lifetimes.iter().map(|_| quote!('static));
        quote!(#ident<#(#statics),*>)
    };
    let sqlite = backends
        .sqlite
        .then(|| backend_registration(&name, &ty, Backend::Sqlite));
    let mysql = backends
        .mysql
        .then(|| backend_registration(&name, &ty, Backend::MySql));
    quote! {
        #sqlite
        #mysql

        fn __atomic_upsert_verify(
            conn: &mut ::atomic_upsert::__private::PgConnection,
        ) -> ::atomic_upsert::__private::VerifyFuture<'_> {
            #[allow(unused_imports)]
            use ::atomic_upsert::__private::{ProbeRegistered as _, ProbeUnregistered as _};
            ((&::atomic_upsert::__private::Probe::<#ty>::new()).registered())(conn)
        }
        ::atomic_upsert::__private::inventory::submit! {
            ::atomic_upsert::__private::Registered::<::atomic_upsert::__private::PgConnection> {
                name: #name,
                verify: __atomic_upsert_verify,
            }
        }
    }
}

/// The backends besides PostgreSQL that register their `verify` for `verify_all`.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    MySql,
}

/// The struct's `verify` on `backend`, registered for `verify_all` there, inside the
/// runtime's macro that expands only with the backend's feature. By autoref, a struct the
/// backend cannot take registers a verify that checks nothing (its calls there fail to
/// compile, naming what the backend lacks; the registration adds no error).
fn backend_registration(name: &str, ty: &TokenStream, backend: Backend) -> TokenStream {
    let (gate, connection, method, probe, probe_not, verify) = match backend {
        Backend::Sqlite => (
            quote!(if_sqlite),
            quote!(SqliteConnection),
            quote!(registered_sqlite),
            quote!(ProbeSqlite),
            quote!(ProbeNotSqlite),
            quote!(__atomic_upsert_verify_sqlite),
        ),
        Backend::MySql => (
            quote!(if_mysql),
            quote!(MySqlConnection),
            quote!(registered_mysql),
            quote!(ProbeMySql),
            quote!(ProbeNotMySql),
            quote!(__atomic_upsert_verify_mysql),
        ),
    };
    quote! {
        ::atomic_upsert::__private::#gate! {
            fn #verify(
                conn: &mut ::atomic_upsert::__private::#connection,
            ) -> ::atomic_upsert::__private::VerifyFuture<'_> {
                #[allow(unused_imports)]
                use ::atomic_upsert::__private::{#probe as _, #probe_not as _};
                ((&::atomic_upsert::__private::Probe::<#ty>::new()).#method())(conn)
            }
            ::atomic_upsert::__private::inventory::submit! {
                ::atomic_upsert::__private::Registered::<::atomic_upsert::__private::#connection> {
                    name: #name,
                    verify: #verify,
                }
            }
        }
    }
}

/// The bound that makes a backend's impl require the marker trait of what the backend
/// lacks, spanned at the tokens that ask for it (nothing for a rejected struct's stub).
fn gap_bound(marker: Option<(&str, Span)>) -> Vec<WherePredicate> {
    marker
        .map(|(marker, span)| {
            let marker = Ident::new(marker, span);
            syn::parse_quote_spanned! {span=> __DB: ::atomic_upsert::__private::#marker }
        })
        .into_iter()
        .collect()
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
/// with a field that cannot (a borrowed `&'a str`; a `()` placeholder reads back as `()`) gets an impl whose
/// bounds never hold, so only a call to `upsert_returning` reports it.
fn impls(input: &DeriveInput, parts: &Parts) -> TokenStream {
    let Parts {
        table,
        schema,
        conflict_columns,
        idempotent,
        plan,
        column_bounds,
        unsent,
        type_checks,
        binds,
        key_binds,
        array_binds,
        key_order,
        add_signs,
        stage_types,
        copy_fields,
        decode_bounds,
        from_stored,
        registration,
        ..
    } = parts;
    let ident = &input.ident;
    let (impl_generics, ty_generics, plain_where) = input.generics.split_for_impl();
    // The `Column` bounds go on both impls: on `Generated`, whose bodies need them, and on
    // `AtomicUpsert`, so that its `Generated` supertrait obligation holds under them and a
    // field type that cannot be sent is reported once, under the field, not at the struct.
    let column_where = where_clause(input, column_bounds);
    let from_stored_impl = from_stored_impl(input, decode_bounds, from_stored);
    let schema = option_str(schema.as_deref());
    let unsent = (!unsent.is_empty()).then(|| quote!(let _ = (#(#unsent,)*);));
    let other_backends = other_backends(input, parts);
    quote! {
        const _: () = {
            #registration

            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::AtomicUpsert for #ident #ty_generics #column_where {
                const IDEMPOTENT: bool = #idempotent;
            }

            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::__private::Derived for #ident #ty_generics #plain_where {
                const KEY: ::atomic_upsert::__private::TableKey = ::atomic_upsert::__private::TableKey {
                    schema: #schema,
                    table: #table,
                    columns: &[#(#conflict_columns),*],
                };
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
                fn bind_key<'__q>(
                    &'__q self,
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    #(#key_binds)*
                    query
                }

                #[inline]
                fn bind_rows<'__q>(
                    rows: &[&'__q Self],
                    query: ::atomic_upsert::__private::PgQuery<'__q>,
                ) -> ::atomic_upsert::__private::PgQuery<'__q> {
                    let _ = rows;
                    #(#array_binds)*
                    query
                }

                #key_order
                #add_signs

                #[inline]
                fn stage_types() -> ::std::vec::Vec<::atomic_upsert::__private::PgTypeInfo> {
                    ::std::vec![#(#stage_types),*]
                }

                #[inline]
                fn copy_row(
                    &self,
                    out: &mut ::atomic_upsert::__private::CopyBuffer,
                ) -> ::core::result::Result<(), ::atomic_upsert::__private::BoxDynError> {
                    let _ = out;
                    #(#copy_fields)*
                    ::core::result::Result::Ok(())
                }
            }

            #from_stored_impl

            #other_backends
        };
    }
}

/// The impls of the backends besides PostgreSQL: each backend's, the one that names what
/// it lacks, or (for a struct the derive rejected) a stub.
fn other_backends(input: &DeriveInput, parts: &Parts) -> TokenStream {
    let sqlite = match (&parts.sqlite, parts.sqlite_gap) {
        (Some(sqlite), _) => sqlite_impls(input, sqlite),
        (None, Some(gap)) => sqlite_gap_impls(input, Some(gap)),
        (None, None) if parts.stub && parts.backends.sqlite => sqlite_gap_impls(input, None),
        (None, None) => TokenStream::new(),
    };
    let mysql = match (&parts.mysql, parts.mysql_gap) {
        (Some(mysql), _) => mysql_impls(input, mysql),
        (None, Some(gap)) => mysql_gap_impls(input, Some(gap)),
        (None, None) if parts.stub && parts.backends.mysql => mysql_gap_impls(input, None),
        (None, None) => TokenStream::new(),
    };
    quote! {
        #sqlite

        #mysql
    }
}

/// `generics` with the returned row's lifetime `'__r` first (the `FromStored` impls).
fn with_row_lifetime(generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    generics.params.insert(0, syn::parse_quote!('__r));
    generics
}
