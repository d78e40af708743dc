//! SQLite's errors typed: a result code (and the `table.column` SQLite names in its
//! message) to its [`Error`] variant.

use crate::error::{Error, TableKey};

/// A SQLite error, typed by its result code and message (SQLite names no constraint,
/// only `table.column` in its message).
pub(crate) fn classify(source: sqlx::Error, target: Option<&TableKey>) -> Error {
    use sqlx::error::ErrorKind;
    let sqlx::Error::Database(db) = &source else {
        return Error::Sqlx(source);
    };
    let code: i64 = db.code().and_then(|c| c.parse().ok()).unwrap_or_default();
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    if matches!(code & 0xff, 5 | 6) {
        return Error::Busy {
            code: code.to_string(),
            source,
        };
    }
    let message = db.message().to_owned();
    if let (true, Some(target)) = (
        message.contains("ON CONFLICT clause does not match"),
        target,
    ) {
        return Error::NoMatchingUniqueIndex {
            table: target.display_table(),
            columns: target.columns.iter().map(|c| (*c).to_owned()).collect(),
            fix: target.create_index_fix(),
            source: Box::new(source),
        };
    }
    // "UNIQUE constraint failed: t.a, t.b", "NOT NULL constraint failed: t.a",
    // "CHECK constraint failed: name".
    let after = message.split_once(": ").map(|(_, rest)| rest.to_owned());
    let table = after
        .as_deref()
        .and_then(|rest| rest.split_once('.'))
        .map(|(table, _)| table.to_owned());
    match db.kind() {
        ErrorKind::UniqueViolation => Error::UniqueViolation {
            constraint: None,
            table,
            detail: after.map(|columns| format!("columns {columns}")),
            source: Box::new(source),
        },
        ErrorKind::NotNullViolation => Error::NotNullViolation {
            column: after
                .as_deref()
                .and_then(|rest| rest.split_once('.'))
                .map(|(_, column)| column.to_owned()),
            table,
            source,
        },
        ErrorKind::CheckViolation => Error::CheckViolation {
            constraint: after,
            table: None,
            source,
        },
        ErrorKind::ForeignKeyViolation => Error::ForeignKeyViolation {
            constraint: None,
            table: None,
            detail: None,
            source: Box::new(source),
        },
        _ => match undefined(&message) {
            Some(code) => Error::Database {
                code: code.to_owned(),
                message,
                source,
            },
            None => Error::Sqlx(source),
        },
    }
}

/// PostgreSQL's SQLSTATE for a missing table (`42P01`) or column (`42703`), from SQLite's
/// message: the same failure is the same `Error::Database { code }` on every backend.
fn undefined(message: &str) -> Option<&'static str> {
    if message.starts_with("no such table") {
        Some("42P01")
    } else if message.starts_with("no such column") || message.contains("has no column named") {
        Some("42703")
    } else {
        None
    }
}
