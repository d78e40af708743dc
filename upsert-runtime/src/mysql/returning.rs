//! `upsert_returning` on MariaDB 10.5+ (the `mariadb` feature): the upsert with
//! `RETURNING` the stored row and `LAST_INSERT_ID()`. MySQL has no `RETURNING`, and sqlx's
//! one `MySql` type serves both servers, so without the feature `MySql` does not implement
//! [`Returns`] and the call is a compile error that names the reason.

use std::future::Future;

use sqlx::Executor;
use sqlx::Row as _;
use sqlx::mysql::MySql;
use upsert_core::mysql::statements::HELD;

use crate::dispatch::Returns;
use crate::error::Error;
use crate::mysql::calls::SYSTEM;
use crate::mysql::generated::{FromStoredMySql, GeneratedMySql};
use crate::telemetry::{CallSpan, Op, traced};

/// MariaDB's `RETURNING`, with the `mariadb` feature (MySQL has none: without the feature
/// the call does not compile). The stored row comes back even when a guard held the update
/// back; the returned `LAST_INSERT_ID()` tells that case, which answers `None`, as on
/// PostgreSQL.
impl<'c, T, E> Returns<'c, T, E> for MySql
where
    T: GeneratedMySql<MySql> + for<'r> FromStoredMySql<'r, MySql>,
    E: Executor<'c, Database = MySql> + Send,
{
    fn upsert_returning(
        row: &T,
        executor: E,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        let key = T::KEY;
        traced(
            CallSpan::start_on(SYSTEM, Op::UpsertReturning, &key, 1, 1),
            async move {
                let stored = row
                    .bind_row_mysql(sqlx::query(T::MYSQL.returning_sql))
                    .fetch_optional(executor)
                    .await
                    .map_err(|error| Error::classify(error, &key))?;
                let Some(stored) = stored else {
                    return Ok(None);
                };
                let mark: u64 = stored.try_get(stored.len() - 1).map_err(Error::Sqlx)?;
                if mark == HELD {
                    return Ok(None);
                }
                // The statement has run: the write stands, only reading it back failed.
                T::from_stored_mysql(&stored)
                    .map(Some)
                    .map_err(|source| Error::unreadable(&stored, source))
            },
            |call, stored| call.returned(stored.is_some()),
        )
    }
}
