//! `#[derive(AtomicUpsert)]`: the compile-time half of
//! [`atomic-upsert`](https://docs.rs/atomic-upsert).
//!
//! Use it through the `atomic-upsert` crate; the attributes are documented on its
//! `AtomicUpsert` trait. The pipeline, after serde's and thiserror's:
//!
//! `ast` (typed view of the struct, attributes parsed by `attr`, errors collected in
//! `ctxt`) → `check` (rules across fields) → `sql` (pure model → SQL text) → `expand`
//! (the impl).

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod sql;

use proc_macro::TokenStream;

/// Derives `atomic_upsert::AtomicUpsert`. See the trait for the attributes.
#[proc_macro_derive(AtomicUpsert, attributes(conflict_key, upsert))]
pub fn derive_atomic_upsert(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .map_or_else(syn::Error::into_compile_error, |input| {
            expand::derive(&input)
        })
        .into()
}
