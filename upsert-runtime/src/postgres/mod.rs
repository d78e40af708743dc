//! The PostgreSQL backend: what the derive generates for it ([`generated`]), the calls
//! (`calls`: single row in [`execute`], batches in [`bulk`] over the staging table of
//! [`stage`], streams in [`stream`]), what a dropped call leaves ([`cancel`]), the catalog
//! ([`catalog`]) and `verify` ([`verify`]).

pub(crate) mod bulk;
pub(crate) mod calls;
pub(crate) mod cancel;
pub(crate) mod catalog;
pub(crate) mod errors;
pub(crate) mod execute;
pub(crate) mod generated;
pub(crate) mod stage;
pub(crate) mod stream;
pub(crate) mod verify;
