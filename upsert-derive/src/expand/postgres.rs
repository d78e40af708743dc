//! The PostgreSQL side of the expansion: the `Plan` constant (its statements and every
//! field's `FieldSpec`, quoted), the key order and `add` signs a batch reads, and
//! `FromStored`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, WherePredicate};
use upsert_core::postgres::bulk::{self, Source};
use upsert_core::postgres::counts::Counts;
use upsert_core::postgres::plan::Statements;
use upsert_core::verify::TypeClass;
use upsert_core::{ConflictTarget, Model, Postgres, Role, Strategy, Unwritten, single};

use super::{where_clause, with_row_lifetime};
use crate::ast::Container;

/// `Generated::add_signs`, for a struct with `add` fields (nothing otherwise): each one's
/// sign bits, by its `Addable::sign`.
pub(super) fn add_signs(container: &Container) -> TokenStream {
    let adds: Vec<TokenStream> = container
        .fields
        .iter()
        .filter(|f| matches!(f.role, Role::Combine(strategy) if strategy.is_add()))
        .take(32)
        .enumerate()
        .map(|(j, f)| {
            let (member, local) = (f.ident, f.local_span());
            let j = u32::try_from(j).unwrap_or(0);
            quote_spanned!(local=> {
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
pub(super) fn key_order(container: &Container, model: &Model) -> TokenStream {
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
pub(super) fn column_traits(field: &crate::ast::Field) -> (Ident, Ident) {
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
pub(super) struct PlanParts<'a> {
    /// The statements, declared once in `upsert_core::postgres::plan`.
    pub(super) sql: Statements<String>,
    /// The presorted statements: `UNNEST`, staging table.
    pub(super) presorted: Option<(String, String)>,
    pub(super) stage_columns: &'a [&'a str],
    pub(super) counts: Counts,
    pub(super) unwritten: Unwritten,
    pub(super) struct_name: &'a str,
    pub(super) fields: &'a [TokenStream],
    pub(super) target: TokenStream,
    pub(super) update_where: Option<&'a str>,
    pub(super) skip_unchanged: bool,
    pub(super) nulls_not_distinct: bool,
    /// A partitioned table's statements for PostgreSQL 18+ (`RETURNING old`).
    pub(super) returning_old: Option<TokenStream>,
}

/// The `ReturningOld` constant of a partitioned table's `model` (flagged `InsertFlag::Old`).
pub(super) fn returning_old(model: &Model) -> TokenStream {
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
pub(super) fn presorted(model: &Model) -> Option<(String, String)> {
    bulk::upsert_many_presorted(&Postgres, model, Source::Unnest).zip(bulk::upsert_many_presorted(
        &Postgres,
        model,
        Source::Stage,
    ))
}

/// `Option<PresortedSql>` of the presorted statements (`UNNEST`, staging table).
pub(super) fn presorted_tokens(presorted: Option<(String, String)>) -> TokenStream {
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

/// The `Plan` constant: the statements quoted field by field from their one declaration
/// ([`Statements::named`]), then the rest of the plan.
pub(super) fn plan(s: &PlanParts) -> TokenStream {
    let counts = counts_tokens(s.counts);
    let unwritten = unwritten_tokens(s.unwritten);
    let presorted = presorted_tokens(s.presorted.clone());
    let returning_old = s.returning_old.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |old| quote!(::core::option::Option::Some(#old)),
    );
    let (names, texts): (Vec<Ident>, Vec<&String>) = s
        .sql
        .named()
        .into_iter()
        .map(|(name, text)| (Ident::new(name, Span::call_site()), text))
        .unzip();
    let PlanParts {
        stage_columns,
        struct_name,
        fields,
        target,
        skip_unchanged,
        nulls_not_distinct,
        ..
    } = s;
    let update_where = option_str(s.update_where);
    quote! {
        ::atomic_upsert::__private::Plan {
            sql: ::atomic_upsert::__private::Statements { #(#names: #texts,)* },
            struct_name: #struct_name,
            fields: &[#(#fields),*],
            target: #target,
            update_where: #update_where,
            skip_unchanged: #skip_unchanged,
            nulls_not_distinct: #nulls_not_distinct,
            presorted: #presorted,
            stage_columns: &[#(#stage_columns),*],
            counts: #counts,
            unwritten: #unwritten,
            returning_old: #returning_old,
        }
    }
}

pub(super) fn counts_tokens(counts: Counts) -> TokenStream {
    match counts {
        Counts::Keys { updates } => {
            quote!(::atomic_upsert::__private::Counts::Keys { updates: #updates })
        }
        Counts::Guarded => quote!(::atomic_upsert::__private::Counts::Guarded),
    }
}

pub(super) fn unwritten_tokens(unwritten: Unwritten) -> TokenStream {
    let variant = match unwritten {
        Unwritten::Skipped => quote!(Skipped),
        Unwritten::Unchanged => quote!(Unchanged),
        Unwritten::Told => quote!(Told),
    };
    quote!(::atomic_upsert::__private::Unwritten::#variant)
}

pub(super) fn option_str(value: Option<&str>) -> TokenStream {
    value.map_or_else(
        || quote!(::core::option::Option::None),
        |value| quote!(::core::option::Option::Some(#value)),
    )
}

/// `Some(::atomic_upsert::__private::#ty::#variant)` for an enum value shared with the
/// runtime (named by its `Debug` text, which is its variant's name), or `None`.
pub(super) fn option_variant<T: std::fmt::Debug>(ty: &str, value: Option<T>) -> TokenStream {
    value.map_or_else(
        || quote!(::core::option::Option::None),
        |value| {
            let (ty, variant) = (format_ident!("{ty}"), format_ident!("{value:?}"));
            quote!(::core::option::Option::Some(::atomic_upsert::__private::#ty::#variant))
        },
    )
}

pub(super) fn target_tokens(target: ConflictTarget) -> TokenStream {
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

pub(super) fn role_tokens(role: Role) -> TokenStream {
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
pub(super) fn field_spec(field: &crate::ast::Field) -> TokenStream {
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
    // The type's text read once, here: the runtime reads these, never the text.
    let class = option_variant("TypeClass", TypeClass::of(&rust_type));
    let array = upsert_core::is_array_type(&rust_type);
    let text = upsert_core::is_text_type(&rust_type);
    quote! {
        ::atomic_upsert::__private::FieldSpec {
            field: #name,
            column: #column,
            role: #role,
            optional: #optional,
            rust_type: #rust_type,
            class: #class,
            array: #array,
            text: #text,
            sql: #sql,
            cast: #cast,
            collate: #collate,
            default: #default,
            sent: #sent,
        }
    }
}

/// `FromStored<'__r>`: the struct read back from `UPSERT_RETURNING_SQL`'s row.
pub(super) fn from_stored_impl(
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
            #[inline]
            fn from_stored(
                row: &'__r ::atomic_upsert::__private::PgRow,
            ) -> ::core::result::Result<Self, ::atomic_upsert::__private::SqlxError> {
                let _ = row;
                #from_stored
            }
        }
    }
}
