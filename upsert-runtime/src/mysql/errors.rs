//! MySQL's and MariaDB's errors typed: an error number to its [`Error`] variant.

use sqlx::mysql::MySqlDatabaseError;

use crate::error::{Error, TableKey};

/// A MySQL error, typed by its error number (the SQLSTATE, `23000` for every integrity
/// error, does not tell them apart).
pub(crate) fn classify(source: sqlx::Error, target: Option<&TableKey>) -> Error {
    let sqlx::Error::Database(db) = &source else {
        return Error::Sqlx(source);
    };
    let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() else {
        return Error::Sqlx(source);
    };
    let (number, message) = (my.number(), my.message().to_owned());
    let table = target.map(TableKey::display_table);
    match number {
        // ER_DUP_ENTRY: another unique index than the conflict key's (the key's own fires
        // the update instead).
        1062 => Error::UniqueViolation {
            constraint: quoted_after(&message, "for key "),
            table,
            detail: Some(message),
            source: Box::new(source),
        },
        // ER_NO_REFERENCED_ROW_2, ER_ROW_IS_REFERENCED_2.
        1451 | 1452 => Error::ForeignKeyViolation {
            constraint: quoted_after(&message, "CONSTRAINT "),
            table,
            detail: Some(message),
            source: Box::new(source),
        },
        // ER_BAD_NULL_ERROR.
        1048 => Error::NotNullViolation {
            column: quoted_after(&message, "Column "),
            table,
            source,
        },
        // ER_CHECK_CONSTRAINT_VIOLATED (MySQL 8), ER_CONSTRAINT_FAILED (MariaDB).
        3819 | 4025 => Error::CheckViolation {
            constraint: quoted_after(&message, "onstraint ")
                .or_else(|| quoted_after(&message, "CONSTRAINT ")),
            table,
            source,
        },
        // ER_DATA_TOO_LONG, ER_WARN_DATA_OUT_OF_RANGE, ER_TRUNCATED_WRONG_VALUE(_FOR_FIELD),
        // ER_INVALID_JSON_TEXT.
        1406 | 1264 | 1292 | 1366 | 3140 => Error::InvalidValue {
            code: number.to_string(),
            message,
            source,
        },
        // ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR: PostgreSQL's SQLSTATEs, as on every backend.
        1146 | 1054 => Error::Database {
            code: if number == 1146 { "42P01" } else { "42703" }.to_owned(),
            message,
            source,
        },
        // ER_LOCK_WAIT_TIMEOUT: transient, its SQLSTATE (HY000) says nothing.
        1205 => Error::Database {
            code: "1205".to_owned(),
            message,
            source,
        },
        // ER_LOCK_DEADLOCK (40001) and the rest, by SQLSTATE.
        _ => Error::Database {
            code: db
                .code()
                .map_or_else(|| number.to_string(), std::borrow::Cow::into_owned),
            message,
            source,
        },
    }
}

/// The first `'quoted'` or `` `quoted` `` name after `marker` in `message`.
fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '`'))?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}
