//! Which backend's classifier types a [`sqlx::Error`]: the one place that knows both, so
//! that `error.rs` (the type) and each backend's `errors.rs` (its classifier) depend on
//! nothing above them.

use crate::error::{Error, TableKey};

impl Error {
    /// Classifies a [`sqlx::Error`] raised by a statement on `target`.
    pub(crate) fn classify(source: sqlx::Error, target: &TableKey) -> Self {
        Self::classify_for(source, Some(target))
    }

    fn classify_for(source: sqlx::Error, target: Option<&TableKey>) -> Self {
        #[cfg(feature = "sqlite")]
        if let sqlx::Error::Database(db) = &source
            && db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        {
            return crate::sqlite::errors::classify(source, target);
        }
        #[cfg(feature = "mysql")]
        if let sqlx::Error::Database(db) = &source
            && db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some()
        {
            return crate::mysql::errors::classify(source, target);
        }
        crate::postgres::errors::classify(source, target)
    }
}

/// Any sqlx error, typed by its SQLSTATE, so `?` works on sqlx calls in a function that
/// returns [`Error`].
///
/// ```
/// fn pool_gone() -> Result<(), atomic_upsert::Error> {
///     Err(atomic_upsert::sqlx::Error::PoolClosed)?
/// }
/// assert!(matches!(pool_gone(), Err(atomic_upsert::Error::Sqlx(_))));
/// ```
impl From<sqlx::Error> for Error {
    fn from(source: sqlx::Error) -> Self {
        Self::classify_for(source, None)
    }
}
