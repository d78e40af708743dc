//! The audit's fixes for its fixtures, as `tests/fixes.rs` generated them.
#![allow(unused, missing_docs)]
include!(env!("AUDIT_FIXES"));
