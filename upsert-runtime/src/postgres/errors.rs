//! PostgreSQL's errors typed: a SQLSTATE (and the constraint, table and column the server
//! names) to its [`Error`] variant, with the fix where the table and key are known.

use crate::error::{Error, TableKey};

/// The SQLSTATE codes this crate gives their own [`Error`] variant.
mod sqlstate {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    /// "there is no unique or exclusion constraint matching the ON CONFLICT specification"
    pub const INVALID_COLUMN_REFERENCE: &str = "42P10";
    /// "cached plan must not change result type" is one of these.
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// `ON CONFLICT` over a deferrable constraint, among others.
    pub const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    /// Class 22: data exception (bad encoding such as a NUL byte, out of range, ...).
    pub const DATA_EXCEPTION_CLASS: &str = "22";
}

/// A PostgreSQL error of a statement on `target` (when known), typed.
pub(crate) fn classify(source: sqlx::Error, target: Option<&TableKey>) -> Error {
    let sqlx::Error::Database(db) = &source else {
        return Error::Sqlx(source);
    };
    let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() else {
        return Error::Sqlx(source);
    };
    let owned = |s: Option<&str>| s.map(str::to_owned);
    let code = pg.code();
    if code == sqlstate::FEATURE_NOT_SUPPORTED && pg.message().contains("cached plan") {
        return Error::StaleStatement { source };
    }
    if let (sqlstate::FEATURE_NOT_SUPPORTED, Some(target)) = (code, target) {
        let table = target.display_table();
        if pg.message().contains("system column") {
            return Error::PartitionedTable { table, source };
        }
        if pg.message().contains("ON UPDATE specification") {
            return Error::CrossPartitionUpdate { table, source };
        }
    }
    if let (sqlstate::OBJECT_NOT_IN_PREREQUISITE_STATE, Some(target)) = (code, target)
        && pg.message().contains("deferrable")
    {
        return Error::DeferrableArbiter {
            table: target.display_table(),
            source,
        };
    }
    if let (sqlstate::INVALID_COLUMN_REFERENCE, Some(target)) = (code, target) {
        return Error::NoMatchingUniqueIndex {
            table: target.display_table(),
            columns: target.columns.iter().map(|c| (*c).to_owned()).collect(),
            fix: target.create_index_fix(),
            source: Box::new(source),
        };
    }
    match code {
        sqlstate::UNIQUE_VIOLATION => Error::UniqueViolation {
            constraint: owned(pg.constraint()),
            table: owned(pg.table()),
            detail: owned(pg.detail()),
            source: Box::new(source),
        },
        sqlstate::CHECK_VIOLATION => Error::CheckViolation {
            constraint: owned(pg.constraint()),
            table: owned(pg.table()),
            source,
        },
        sqlstate::NOT_NULL_VIOLATION => Error::NotNullViolation {
            column: owned(pg.column()),
            table: owned(pg.table()),
            source,
        },
        sqlstate::FOREIGN_KEY_VIOLATION => Error::ForeignKeyViolation {
            constraint: owned(pg.constraint()),
            table: owned(pg.table()),
            detail: owned(pg.detail()),
            source: Box::new(source),
        },
        _ if code.starts_with(sqlstate::DATA_EXCEPTION_CLASS) => Error::InvalidValue {
            code: code.to_owned(),
            message: pg.message().to_owned(),
            source,
        },
        _ => Error::Database {
            code: code.to_owned(),
            message: pg.message().to_owned(),
            source,
        },
    }
}
