//! The generated code: `impl AtomicUpsert` (the public constants), `impl Generated` (binds,
//! `COPY` rows and the plan the runtime reads) and `impl FromStored` (`upsert_returning`).
//!
//! [`Parts::new`] maps the checked struct to everything the impls hold (the statements come
//! from `upsert_core`); [`impls`] is the one `quote!` template, which also writes the
//! fallback impls from [`Parts::stub`].

use proc_macro2::Span;
use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::{ToTokens as _, format_ident, quote, quote_spanned};
use syn::{DeriveInput, GenericParam, WherePredicate};
use upsert_core::postgres::bulk::{self, Counts, Source};
use upsert_core::sqlite::{self, Gap};
use upsert_core::{
    ConflictTarget, Dialect as _, InsertFlag, Model, NullKeys, Postgres, Role, Sqlite, Strategy,
    Unwritten, single,
};

use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::{check, snapshot};

/// The whole expansion: the impls, or every error found plus stub impls so that the
/// user's code that calls the trait raises no second wave of errors.
pub fn derive(input: &DeriveInput) -> TokenStream {
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
        (Ok(()), Some(container)) => impls(input, &Parts::new(&container)),
        (Err(errors), _) => {
            let mut tokens = errors.into_compile_error();
            tokens.extend(fallback(input));
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
}

/// The tokens that ask for what SQLite lacks: the attribute, or the array field's type.
fn gap_span(container: &Container, gap: Gap) -> Span {
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
struct SqliteParts {
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
    fn new(container: &Container, model: &Model) -> Option<Self> {
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
        let chunks: Vec<TokenStream> = sqlite::bulk::chunk_rows(model)
            .into_iter()
            .map(|rows| {
                let upsert_sql = sqlite::bulk::upsert_many(lite, model, rows);
                let existing_sql = sqlite::bulk::existing_keys(lite, model, rows);
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
                }
            },
            ..SqliteParts::default()
        };
        for (index, field) in container.fields.iter().enumerate() {
            let (member, ty, span) = (field.ident, field.ty, field.ty_span());
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
            let bind = quote_spanned! {span=>
                let query = ::atomic_upsert::__private::bind_sqlite::<__DB, #ty>(query, &self.#member);
            };
            let row_bind = quote_spanned! {span=>
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

impl Parts {
    /// The impls of a checked struct.
    fn new(container: &Container) -> Self {
        let model = container.model();
        let pg = &Postgres;
        let returned = returned_columns(container);
        let mut parts = Parts {
            table: container.table.clone(),
            schema: container.schema.clone(),
            conflict_columns: model.keys().iter().map(|c| c.name.to_owned()).collect(),
            upsert_sql: single::upsert(pg, &model),
            insert_or_ignore_sql: single::insert_or_ignore(pg, &model),
            upsert_many_sql: bulk::upsert_many(pg, &model, Source::Unnest),
            upsert_returning_sql: single::upsert_returning(pg, &model, &returned),
            idempotent: model.idempotent(),
            key_order: key_order(container, &model),
            add_signs: add_signs(container),
            plan: plan(&Statements {
                stage_upsert_sql: &bulk::upsert_many(pg, &model, Source::Stage),
                presorted: presorted(&model),
                outcomes_sql: &bulk::upsert_many_outcomes(pg, &model, Source::Unnest),
                stage_outcomes_sql: &bulk::upsert_many_outcomes(pg, &model, Source::Stage),
                rounds_sql: &bulk::round_numbers(pg, &model),
                stage_copy_sql: &bulk::stage_copy(pg, &model),
                stage_insert_sql: &bulk::stage_insert(pg, &model),
                stage_columns: &model.bound().iter().map(|c| c.name).collect::<Vec<_>>(),
                counts: Counts::of(&model),
                unwritten: model.unwritten(),
                struct_name: &container.ident.to_string(),
                fields: &container.fields.iter().map(field_spec).collect::<Vec<_>>(),
                target: target_tokens(model.target),
                update_where: model.guard.update_where,
                skip_unchanged: model.guard.skip_unchanged,
                nulls_not_distinct: model.null_keys == NullKeys::NotDistinct,
                insert_or_get_sql: &single::insert_or_ignore_returning(pg, &model, &returned),
                upsert_returning_row_sql: &single::upsert_returning_row(pg, &model),
                insert_or_get_row_sql: &single::insert_or_ignore_returning_row(pg, &model),
                select_row_by_key_sql: &single::select_row_by_key(pg, &model),
                select_by_key_sql: &single::select_by_key(pg, &model, &returned),
                returning_old: (model.flag == InsertFlag::Marker)
                    .then(|| returning_old(&model.clone().with_flag(InsertFlag::Old))),
            }),
            ..Parts::default()
        };
        let mut reads = Vec::new();
        for (index, field) in container.fields.iter().enumerate() {
            let (member, ty, span) = (field.ident, field.ty, field.ty_span());
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
                parts.type_checks.push(quote_spanned! {span=>
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
            let bind = quote_spanned! {span=>
                let query = <#ty as ::atomic_upsert::__private::#ops>::bind(query, &self.#member);
            };
            if field.role == Role::Key {
                parts.key_binds.push(bind.clone());
            }
            parts.binds.push(bind);
            parts.array_binds.push(quote_spanned! {span=>
                let query = <#ty as ::atomic_upsert::__private::#ops>::bind_array(query, rows, |row| &row.#member);
            });
            parts.stage_types.push(quote_spanned! {span=>
                <#ty as ::atomic_upsert::__private::#ops>::type_info()
            });
            parts.copy_fields.push(quote_spanned! {span=>
                <#ty as ::atomic_upsert::__private::#ops>::copy_into(&self.#member, out)?;
            });
        }
        parts.from_stored = quote!(::core::result::Result::Ok(Self { #(#reads,)* }));
        parts.registration = registration(container);
        // SQLite has no partitions: its statements never take the partitioned flag.
        parts.sqlite = SqliteParts::new(container, &model.clone().with_flag(InsertFlag::Xmax));
        parts.sqlite_gap = Gap::of(&model).map(|gap| (gap, gap_span(container, gap)));
        parts
    }

    /// Impls that compile whatever the fields are, beside the errors.
    fn stub() -> Self {
        Parts {
            plan: plan(&Statements {
                stage_upsert_sql: "",
                presorted: None,
                outcomes_sql: "",
                stage_outcomes_sql: "",
                rounds_sql: "",
                stage_copy_sql: "",
                stage_insert_sql: "",
                stage_columns: &[],
                counts: Counts::Guarded,
                unwritten: Unwritten::Skipped,
                struct_name: "",
                fields: &[],
                target: target_tokens(ConflictTarget::Keys { predicate: None }),
                update_where: None,
                skip_unchanged: false,
                nulls_not_distinct: false,
                insert_or_get_sql: "",
                upsert_returning_row_sql: "",
                insert_or_get_row_sql: "",
                select_row_by_key_sql: "",
                select_by_key_sql: "",
                returning_old: None,
            }),
            from_stored: quote!(::core::result::Result::Err(
                ::atomic_upsert::__private::SqlxError::RowNotFound
            )),
            ..Parts::default()
        }
    }
}

/// `Generated::add_signs`, for a struct with `add` fields (nothing otherwise): each one's
/// sign bits, by its `Addable::sign`.
fn add_signs(container: &Container) -> TokenStream {
    let adds: Vec<TokenStream> = container
        .fields
        .iter()
        .filter(|f| matches!(f.role, Role::Combine(strategy) if strategy.is_add()))
        .take(32)
        .enumerate()
        .map(|(j, f)| {
            let (member, span) = (f.ident, f.ty_span());
            let j = u32::try_from(j).unwrap_or(0);
            quote_spanned!(span=> {
                #[allow(unused_imports)]
                use ::atomic_upsert::__private::{AddSignBits as _, NoAddSign as _};
                (&::atomic_upsert::__private::AddSign(&self.#member)).bits(#j)
            })
        })
        .collect();
    if adds.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[inline]
        fn add_signs(&self) -> u64 {
            0 #(| #adds)*
        }
    }
}

/// `Generated::key_cmp` and `key_is_null`, for a model that can go presorted (nothing
/// otherwise): each key field's order probed by its type
/// (`Text` for a string type whose statements sort it by bytes, else `Value`), so that a
/// key type with no client order makes the batch take the folded path.
fn key_order(container: &Container, model: &Model) -> TokenStream {
    if !model.presorted() {
        return TokenStream::new();
    }
    let keys: Vec<(&Ident, TokenStream)> = container
        .fields
        .iter()
        .filter(|f| f.role == Role::Key)
        .map(|f| {
            let by_bytes = model
                .columns
                .iter()
                .any(|c| c.name == f.column && c.sorts_by_bytes);
            let order = if by_bytes {
                quote!(::atomic_upsert::__private::Text)
            } else {
                quote!(::atomic_upsert::__private::Value)
            };
            let ty = f.ty;
            (
                f.ident,
                quote!((&::atomic_upsert::__private::OrderProbe::<#ty, #order>::new()).__atomic_upsert_key_order()),
            )
        })
        .collect();
    let compares = keys.iter().map(|(member, probe)| {
        quote! {
            match (#probe?.cmp)(&a.#member, &b.#member) {
                ::core::cmp::Ordering::Equal => {}
                other => return ::core::option::Option::Some(other),
            }
        }
    });
    let nulls = keys
        .iter()
        .map(|(member, probe)| quote!(#probe.is_some_and(|order| (order.is_null)(&self.#member))));
    quote! {
        #[inline]
        fn key_cmp(a: &Self, b: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
            #[allow(unused_imports)]
            use ::atomic_upsert::__private::{Ordered as _, Unordered as _};
            #(#compares)*
            ::core::option::Option::Some(::core::cmp::Ordering::Equal)
        }

        #[inline]
        fn key_is_null(&self) -> bool {
            #[allow(unused_imports)]
            use ::atomic_upsert::__private::{Ordered as _, Unordered as _};
            false #(|| #nulls)*
        }
    }
}

/// The runtime traits a sent field's type goes through, spanned at the type: `Column` and
/// `ColumnOps`, or for an array column (`Vec<T>`) `ArrayColumn` and `ArrayOps`.
fn column_traits(field: &crate::ast::Field) -> (Ident, Ident) {
    let (bound, ops) = if field.is_array() {
        ("ArrayColumn", "ArrayOps")
    } else {
        ("Column", "ColumnOps")
    };
    (
        Ident::new(bound, field.ty_span()),
        Ident::new(ops, field.ty_span()),
    )
}

/// What the `Plan` constant holds.
struct Statements<'a> {
    stage_upsert_sql: &'a str,
    /// The presorted statements: `UNNEST`, staging table.
    presorted: Option<(String, String)>,
    outcomes_sql: &'a str,
    stage_outcomes_sql: &'a str,
    rounds_sql: &'a str,
    stage_copy_sql: &'a str,
    stage_insert_sql: &'a str,
    stage_columns: &'a [&'a str],
    counts: Counts,
    unwritten: Unwritten,
    struct_name: &'a str,
    fields: &'a [TokenStream],
    target: TokenStream,
    update_where: Option<&'a str>,
    skip_unchanged: bool,
    nulls_not_distinct: bool,
    insert_or_get_sql: &'a str,
    upsert_returning_row_sql: &'a str,
    insert_or_get_row_sql: &'a str,
    select_row_by_key_sql: &'a str,
    select_by_key_sql: &'a str,
    /// A partitioned table's statements for PostgreSQL 18+ (`RETURNING old`).
    returning_old: Option<TokenStream>,
}

/// The `ReturningOld` constant of a partitioned table's `model` (flagged `InsertFlag::Old`).
fn returning_old(model: &Model) -> TokenStream {
    let pg = &Postgres;
    let upsert = single::upsert(pg, model);
    let upsert_many = bulk::upsert_many(pg, model, Source::Unnest);
    let stage_upsert = bulk::upsert_many(pg, model, Source::Stage);
    let outcomes = bulk::upsert_many_outcomes(pg, model, Source::Unnest);
    let stage_outcomes = bulk::upsert_many_outcomes(pg, model, Source::Stage);
    let presorted = presorted_tokens(presorted(model));
    quote! {
        ::atomic_upsert::__private::ReturningOld {
            upsert: #upsert,
            upsert_many: #upsert_many,
            stage_upsert: #stage_upsert,
            presorted: #presorted,
            outcomes: #outcomes,
            stage_outcomes: #stage_outcomes,
        }
    }
}

/// `model`'s presorted statements (`UNNEST`, staging table), if it can go presorted.
fn presorted(model: &Model) -> Option<(String, String)> {
    bulk::upsert_many_presorted(&Postgres, model, Source::Unnest).zip(bulk::upsert_many_presorted(
        &Postgres,
        model,
        Source::Stage,
    ))
}

/// `Option<PresortedSql>` of the presorted statements (`UNNEST`, staging table).
fn presorted_tokens(presorted: Option<(String, String)>) -> TokenStream {
    if let Some((unnest, stage)) = presorted {
        quote! {
            ::core::option::Option::Some(::atomic_upsert::__private::PresortedSql {
                unnest: #unnest,
                stage: #stage,
            })
        }
    } else {
        quote!(::core::option::Option::None)
    }
}

/// The `Plan` constant.
fn plan(s: &Statements) -> TokenStream {
    let counts = counts_tokens(s.counts);
    let unwritten = unwritten_tokens(s.unwritten);
    let presorted = presorted_tokens(s.presorted.clone());
    let returning_old = s.returning_old.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |old| quote!(::core::option::Option::Some(#old)),
    );
    let Statements {
        stage_upsert_sql,
        outcomes_sql,
        stage_outcomes_sql,
        rounds_sql,
        stage_copy_sql,
        stage_insert_sql,
        stage_columns,
        struct_name,
        fields,
        target,
        skip_unchanged,
        nulls_not_distinct,
        insert_or_get_sql,
        upsert_returning_row_sql,
        insert_or_get_row_sql,
        select_row_by_key_sql,
        select_by_key_sql,
        ..
    } = s;
    let update_where = option_str(s.update_where);
    quote! {
        ::atomic_upsert::__private::Plan {
            struct_name: #struct_name,
            fields: &[#(#fields),*],
            target: #target,
            update_where: #update_where,
            skip_unchanged: #skip_unchanged,
            nulls_not_distinct: #nulls_not_distinct,
            insert_or_get_sql: #insert_or_get_sql,
            upsert_returning_row_sql: #upsert_returning_row_sql,
            insert_or_get_row_sql: #insert_or_get_row_sql,
            select_row_by_key_sql: #select_row_by_key_sql,
            select_by_key_sql: #select_by_key_sql,
            stage_upsert_sql: #stage_upsert_sql,
            presorted: #presorted,
            outcomes_sql: #outcomes_sql,
            stage_outcomes_sql: #stage_outcomes_sql,
            rounds_sql: #rounds_sql,
            stage_copy_sql: #stage_copy_sql,
            stage_insert_sql: #stage_insert_sql,
            stage_columns: &[#(#stage_columns),*],
            counts: #counts,
            unwritten: #unwritten,
            returning_old: #returning_old,
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

fn counts_tokens(counts: Counts) -> TokenStream {
    match counts {
        Counts::Keys { updates } => {
            quote!(::atomic_upsert::__private::Counts::Keys { updates: #updates })
        }
        Counts::Guarded => quote!(::atomic_upsert::__private::Counts::Guarded),
    }
}

fn unwritten_tokens(unwritten: Unwritten) -> TokenStream {
    let variant = match unwritten {
        Unwritten::Skipped => quote!(Skipped),
        Unwritten::Unchanged => quote!(Unchanged),
        Unwritten::Told => quote!(Told),
    };
    quote!(::atomic_upsert::__private::Unwritten::#variant)
}

fn option_str(value: Option<&str>) -> TokenStream {
    value.map_or_else(
        || quote!(::core::option::Option::None),
        |value| quote!(::core::option::Option::Some(#value)),
    )
}

fn target_tokens(target: ConflictTarget) -> TokenStream {
    match target {
        ConflictTarget::Keys { predicate } => {
            let predicate = option_str(predicate);
            quote!(::atomic_upsert::__private::ConflictTarget::Keys { predicate: #predicate })
        }
        ConflictTarget::Constraint(name) => {
            quote!(::atomic_upsert::__private::ConflictTarget::Constraint(#name))
        }
    }
}

fn role_tokens(role: Role) -> TokenStream {
    let variant = match role {
        Role::Key => quote!(Key),
        Role::Write => quote!(Write),
        Role::Skip => quote!(Skip),
        Role::InsertOnly => quote!(InsertOnly),
        Role::CreatedAt => quote!(CreatedAt),
        Role::UpdatedAt => quote!(UpdatedAt),
        Role::Version => quote!(Version),
        Role::Defaulted => quote!(Defaulted),
        Role::Combine(strategy) => {
            let strategy = match strategy {
                Strategy::Add => quote!(Add),
                Strategy::AddNullPropagates => quote!(AddNullPropagates),
                Strategy::AddNullAsZero => quote!(AddNullAsZero),
                Strategy::Greatest => quote!(Greatest),
                Strategy::Least => quote!(Least),
                Strategy::Coalesce => quote!(Coalesce),
                Strategy::Merge => quote!(Merge),
            };
            quote!(Combine(::atomic_upsert::__private::Strategy::#strategy))
        }
    };
    quote!(::atomic_upsert::__private::Role::#variant)
}

/// One `FieldSpec`, for `verify`: the field's names and role, and for a sent field the SQL
/// side of its type.
fn field_spec(field: &crate::ast::Field) -> TokenStream {
    let name = &field.name;
    let column = &field.column;
    let role = role_tokens(field.role);
    let optional = field.optional();
    let rust_type = field.type_text();
    let ty = field.ty;
    let sql = if field.role.is_bound() {
        let (_, ops) = column_traits(field);
        quote_spanned! {field.ty_span()=>
            ::core::option::Option::Some(::atomic_upsert::__private::SqlType {
                type_info: <#ty as ::atomic_upsert::__private::#ops>::type_info,
                array_type_info: <#ty as ::atomic_upsert::__private::#ops>::array_type_info,
                compatible: <#ty as ::atomic_upsert::__private::#ops>::compatible,
            })
        }
    } else {
        quote!(::core::option::Option::None)
    };
    let cast = option_str(field.cast.as_deref());
    let collate = option_str(field.collate.as_deref());
    let default = option_str(field.default.as_deref());
    let sent = field.sent;
    quote! {
        ::atomic_upsert::__private::FieldSpec {
            field: #name,
            column: #column,
            role: #role,
            optional: #optional,
            rust_type: #rust_type,
            sql: #sql,
            cast: #cast,
            collate: #collate,
            default: #default,
            sent: #sent,
        }
    }
}

/// Type names that sqlx supports only behind a feature, by the last segment of their path,
/// with that feature's gate method.
const GATED_TYPES: &[(&str, &str)] = &[
    ("Uuid", "uuid"),
    ("DateTime", "chrono"),
    ("NaiveDateTime", "chrono"),
    ("NaiveDate", "chrono"),
    ("NaiveTime", "chrono"),
    ("OffsetDateTime", "time"),
    ("PrimitiveDateTime", "time"),
    ("Decimal", "rust_decimal"),
    ("BigDecimal", "bigdecimal"),
    ("IpNet", "ipnet"),
    ("Ipv4Net", "ipnet"),
    ("Ipv6Net", "ipnet"),
    ("IpNetwork", "ipnetwork"),
    ("MacAddress", "mac_address"),
    ("BitVec", "bit_vec"),
    ("Json", "json"),
    ("JsonValue", "json"),
];

/// The gate methods for the feature-gated type names anywhere in `ty` (`Option<Uuid>`,
/// `Vec<chrono::DateTime<Utc>>`). A type of the user's own with such a name is harmless:
/// the gate checks the feature only when the type cannot be sent.
fn feature_gates(ty: &TokenStream) -> Vec<&'static str> {
    let mut found = Vec::new();
    for token in ty.clone() {
        match token {
            TokenTree::Ident(ident) => {
                if let Some((_, method)) = GATED_TYPES.iter().find(|(name, _)| ident == name)
                    && !found.contains(method)
                {
                    found.push(*method);
                }
            }
            TokenTree::Group(group) => {
                for method in feature_gates(&group.stream()) {
                    if !found.contains(&method) {
                        found.push(method);
                    }
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
    found
}

/// `tokens` with each of `lifetimes` replaced by `'static`.
fn static_lifetimes(tokens: TokenStream, lifetimes: &[Ident]) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(punct) if punct.as_char() == '\'' => {
                if let Some(TokenTree::Ident(ident)) = tokens.peek()
                    && lifetimes.contains(ident)
                {
                    let ident = Ident::new("static", ident.span());
                    tokens.next();
                    out.push(TokenTree::Punct(punct));
                    out.push(TokenTree::Ident(ident));
                } else {
                    out.push(TokenTree::Punct(punct));
                }
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(
                    group.delimiter(),
                    static_lifetimes(group.stream(), lifetimes),
                );
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Registers the struct for `verify_all`. The registration must not name the struct's impls:
/// when a field type cannot be sent, their `Column` bounds fail (one error, at the field)
/// and naming them here would add more errors. So it asks by autoref whether the struct
/// (its lifetimes as `'static`) is an `AtomicUpsert`: if so it gets the runtime's `verify`
/// of that struct, which reads the plan; if not (a build that fails at the field anyway)
/// a verify that checks nothing. It also holds the feature gates of the field types.
fn registration(container: &Container) -> TokenStream {
    let name = container.ident.to_string();
    let lifetimes: Vec<Ident> = container.lifetimes.clone();
    let ident = &container.ident;
    let ty = if lifetimes.is_empty() {
        quote!(#ident)
    } else {
        let statics = lifetimes.iter().map(|_| quote!('static));
        quote!(#ident<#(#statics),*>)
    };
    let gates = container
        .fields
        .iter()
        .filter(|f| f.role.is_bound())
        .flat_map(|f| {
            let ty = static_lifetimes(f.ty.to_token_stream(), &lifetimes);
            feature_gates(&ty).into_iter().map(move |method| {
                let method = Ident::new(method, f.ty_span());
                quote_spanned! {f.ty_span()=>
                    (&::atomic_upsert::__private::Gate::<#ty>::new()).#method();
                }
            })
        })
        .collect::<Vec<_>>();
    // Only for a struct with a feature-gated type name: nothing to type-check otherwise.
    let gates = (!gates.is_empty()).then(|| {
        quote! {
            /// Names the feature to enable for a field type that cannot be sent without it.
            #[allow(dead_code)]
            fn __atomic_upsert_gates() {
                #[allow(unused_imports)]
                use ::atomic_upsert::__private::{GateMissing as _, GateSent as _, GateSentArray as _};
                #(#gates)*
            }
        }
    });
    quote! {
        #gates

        fn __atomic_upsert_verify(
            conn: &mut ::atomic_upsert::__private::PgConnection,
        ) -> ::atomic_upsert::__private::VerifyFuture<'_> {
            #[allow(unused_imports)]
            use ::atomic_upsert::__private::{ProbeRegistered as _, ProbeUnregistered as _};
            ((&::atomic_upsert::__private::Probe::<#ty>::new()).registered())(conn)
        }
        ::atomic_upsert::__private::inventory::submit! {
            ::atomic_upsert::__private::Registration {
                name: #name,
                verify: __atomic_upsert_verify,
            }
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
        sqlite,
        sqlite_gap,
    } = parts;
    let ident = &input.ident;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    // The `Column` bounds go on both impls: on `Generated`, whose bodies need them, and on
    // `AtomicUpsert`, so that its `Generated` supertrait obligation holds under them and a
    // field type that cannot be sent is reported once, under the field, not at the struct.
    let column_where = where_clause(input, column_bounds);
    let from_stored_impl = from_stored_impl(input, decode_bounds, from_stored);
    let schema = option_str(schema.as_deref());
    let unsent = (!unsent.is_empty()).then(|| quote!(let _ = (#(#unsent,)*);));
    let sqlite_impls = sqlite
        .iter()
        .map(|sqlite| sqlite_impls(input, sqlite))
        .chain(sqlite_gap.map(|(gap, span)| sqlite_gap_impls(input, gap, span)));
    quote! {
        const _: () = {
            #registration

            #[automatically_derived]
            impl #impl_generics ::atomic_upsert::AtomicUpsert for #ident #ty_generics #column_where {
                const TABLE: &'static str = #table;
                const SCHEMA: ::core::option::Option<&'static str> = #schema;
                const CONFLICT_COLUMNS: &'static [&'static str] = &[#(#conflict_columns),*];
                const UPSERT_SQL: &'static str = #upsert_sql;
                const INSERT_OR_IGNORE_SQL: &'static str = #insert_or_ignore_sql;
                const UPSERT_MANY_SQL: &'static str = #upsert_many_sql;
                const UPSERT_RETURNING_SQL: &'static str = #upsert_returning_sql;
                const IDEMPOTENT: bool = #idempotent;
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

            #from_stored_impl

            #(#sqlite_impls)*
        };
    }
}

/// `generics` with the returned row's lifetime `'__r` first (the `FromStored` impls).
fn with_row_lifetime(generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    generics.params.insert(0, syn::parse_quote!('__r));
    generics
}

/// `generics` with the database parameter `__DB: SqliteDb` last (the SQLite impls).
fn with_database(generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__DB: ::atomic_upsert::__private::SqliteDb));
    generics
}

/// `FromStored<'__r>`: the struct read back from `UPSERT_RETURNING_SQL`'s row.
fn from_stored_impl(
    input: &DeriveInput,
    decode_bounds: &[WherePredicate],
    from_stored: &TokenStream,
) -> TokenStream {
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let decode_where = where_clause(input, decode_bounds);
    let stored_generics = with_row_lifetime(&input.generics);
    let (stored_impl_generics, _, _) = stored_generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #stored_impl_generics ::atomic_upsert::__private::FromStored<'__r> for #ident #ty_generics #decode_where {
            fn from_stored(
                row: &'__r ::atomic_upsert::__private::PgRow,
            ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                let _ = row;
                #from_stored
            }
        }
    }
}

/// The SQLite impls of a struct SQLite cannot take: they require `__DB` to implement the
/// runtime's marker trait for `gap`, which nothing implements, so a call on SQLite fails
/// with that trait's message, at the attribute; a call on PostgreSQL is untouched.
fn sqlite_gap_impls(input: &DeriveInput, gap: Gap, span: Span) -> TokenStream {
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let generics = with_database(&input.generics);
    let (impl_generics, _, _) = generics.split_for_impl();
    let marker = Ident::new(gap.marker(), span);
    let bound: WherePredicate =
        syn::parse_quote_spanned! {span=> __DB: ::atomic_upsert::__private::#marker };
    let gap_where = where_clause(input, std::slice::from_ref(&bound));
    let stored_generics = with_row_lifetime(&generics);
    let (stored_impl_generics, _, _) = stored_generics.split_for_impl();
    quote! {
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

/// The SQLite impls: `GeneratedSqlite<__DB>` and `FromStoredSqlite<'__r, __DB>`, generic over
/// `__DB: SqliteDb` so that a field type SQLite cannot take fails only a call on SQLite.
fn sqlite_impls(input: &DeriveInput, parts: &SqliteParts) -> TokenStream {
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
