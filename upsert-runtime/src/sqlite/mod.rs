//! The SQLite backend: what the derive generates for it ([`generated`], always compiled: its
//! impls are generic over the database, so they compile with the feature off), and with the
//! `sqlite` feature the calls (`calls`) and `verify` (`verify`).

#[cfg(feature = "sqlite")]
mod calls;
#[cfg(feature = "sqlite")]
pub(crate) mod errors;
pub(crate) mod generated;
#[cfg(feature = "sqlite")]
pub(crate) mod verify;
