//! The MySQL/MariaDB backend (the `mysql` feature): what the derive generates for it
//! ([`generated`]), the calls (`calls`: `INSERT .. ON DUPLICATE KEY UPDATE`, the outcome
//! read from `LAST_INSERT_ID` or the batch counters), `upsert_returning` on MariaDB
//! (`returning`, the `mariadb` feature), `verify` (`verify`) and its errors (`errors`). Without the feature, the derive's MySQL impls expand to nothing
//! ([`if_mysql`](crate::private::if_mysql)), so a struct pays for MySQL only in a build
//! that enables it.

mod calls;
pub(crate) mod errors;
pub(crate) mod generated;
#[cfg(feature = "mariadb")]
mod returning;
pub(crate) mod verify;
