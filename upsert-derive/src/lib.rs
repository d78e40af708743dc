//! `#[derive(AtomicUpsert)]`: the compile-time half of
//! [`atomic-upsert`](https://docs.rs/atomic-upsert).
//!
//! Use it through the `atomic-upsert` crate; the attributes are documented on its
//! `AtomicUpsert` trait. The pipeline, after serde's and thiserror's:
//!
//! `ast` (typed view of the struct, attributes parsed by `attr` from the names in
//! `symbol`, errors collected in `ctxt`, roles resolved once) → `check` (rules across
//! fields) → `upsert_core` (model → SQL text, shared with the runtime) → `expand` (the
//! impls). See ARCHITECTURE.md at the repository root.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod snapshot;
#[cfg(test)]
mod snapshots;
mod symbol;

use proc_macro::TokenStream;

/// Derives `atomic_upsert::AtomicUpsert`. See the trait for the attributes.
#[proc_macro_derive(AtomicUpsert, attributes(conflict_key, upsert))]
pub fn derive_atomic_upsert(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .map_or_else(syn::Error::into_compile_error, |input| {
            expand::derive(&input, expand::Backends::ENABLED)
        })
        .into()
}
