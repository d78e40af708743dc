//! `verify` on MySQL/MariaDB, from `information_schema`: the table, each field's column
//! (NOT NULL against an `Option` field, and its type against sqlx's rule for the field's
//! type, read from the columns of a prepared `SELECT`), a unique index on exactly the
//! conflict key, and every other unique index, which `ON DUPLICATE KEY UPDATE` would also
//! fire on.

use std::collections::BTreeMap;

use sqlx::mysql::{MySql, MySqlConnection};
use sqlx::{Column as _, Row as _};
use upsert_core::Role;
use upsert_core::mysql::column_for;

use crate::dispatch::VerifiesAll;
use crate::error::Error;
use crate::mysql::generated::GeneratedMySql;
use crate::postgres::generated::{FieldSpec, Generated};
use crate::postgres::verify::Probe;
use crate::report::{Mismatch, MismatchKind, Site, mismatch};
use crate::verifying::{Registered, RegisteredVerify, VerifyFuture, verified};

crate::verifying::verify_registry! {
    "MySQL": MySql, MySqlConnection, GeneratedMySql<MySql>, ProbeMySql, ProbeNotMySql, registered_mysql
}

/// One column of the table, as `information_schema` describes it.
struct TableColumn {
    name: String,
    not_null: bool,
    /// As declared (`varchar(40)`, `bigint(20) unsigned`).
    declared: String,
}

/// `` `schema`.`table` ``, or `` `table` ``.
fn quoted(schema: Option<&str>, table: &str) -> String {
    schema.map_or_else(|| format!("`{table}`"), |s| format!("`{s}`.`{table}`"))
}

/// Every way `T` and its table disagree: [`mismatches_of`] on `T`'s constants, so that a
/// struct compiles no `verify` of its own.
async fn mismatches<T>(conn: &mut MySqlConnection) -> Result<Vec<Mismatch>, sqlx::Error>
where
    T: GeneratedMySql<MySql> + Generated,
{
    mismatches_of(
        conn,
        Subject {
            key: T::KEY,
            fields: T::PLAN.fields,
            column_fits: <T as GeneratedMySql<MySql>>::column_fits,
        },
    )
    .await
}

/// What `verify` checks of a struct on MySQL, read from its constants.
#[derive(Clone, Copy)]
struct Subject {
    key: crate::error::TableKey,
    fields: &'static [FieldSpec],
    /// [`GeneratedMySql::column_fits`].
    column_fits: fn(usize, &sqlx::mysql::MySqlTypeInfo) -> bool,
}

/// Every way the struct `subject` describes and its table disagree.
async fn mismatches_of(
    conn: &mut MySqlConnection,
    subject: Subject,
) -> Result<Vec<Mismatch>, sqlx::Error> {
    let key = subject.key;
    let schema_filter = "TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
    let columns: Vec<TableColumn> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COLUMN_NAME, IS_NULLABLE = 'NO', COLUMN_TYPE FROM information_schema.COLUMNS \
         WHERE {schema_filter} ORDER BY ORDINAL_POSITION"
    )))
    .bind(key.schema)
    .bind(key.table)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(TableColumn {
            name: row.try_get(0)?,
            not_null: row.try_get::<i64, _>(1)? != 0,
            declared: row.try_get(2)?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let table = quoted(key.schema, key.table);
    if columns.is_empty() {
        return Ok(vec![mismatch(
            MismatchKind::MissingTable,
            Site::Table,
            None,
            None,
            [
                format!("a table {table}"),
                "no such table".to_owned(),
                format!(
                    "create table {table}, or name the right one with #[upsert(table = \"..\")]"
                ),
            ],
        )]);
    }
    let mut found = Vec::new();
    // The sent fields whose column exists: their types are checked together below.
    let mut sent: Vec<(usize, &TableColumn)> = Vec::new();
    for (index, spec) in subject.fields.iter().enumerate() {
        if spec.role == Role::Skip {
            continue;
        }
        let (field, column) = (Some(spec.field), Some(spec.column));
        let Some(stored) = columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(spec.column))
        else {
            found.push(mismatch(
                MismatchKind::MissingColumn,
                Site::Field(index),
                field,
                column,
                [
                    format!("a column `{}`", spec.column),
                    "no such column".to_owned(),
                    format!(
                        "ALTER TABLE {table} ADD COLUMN `{}` ..; or rename the field's column with #[upsert(rename = \"..\")], or #[upsert(skip)] it",
                        spec.column
                    ),
                ],
            ));
            continue;
        };
        if spec.sql.is_some() {
            sent.push((index, stored));
        }
        if spec.optional && stored.not_null {
            found.push(mismatch(
                MismatchKind::NullableField,
                Site::Field(index),
                field,
                column,
                [
                    format!("a nullable column (the field is {})", spec.rust_type),
                    "NOT NULL".to_owned(),
                    "make the field non-Option, or drop NOT NULL from the column".to_owned(),
                ],
            ));
        }
    }
    found.extend(column_types(conn, subject, &table, &sent).await?);
    let written: Vec<&str> = subject
        .fields
        .iter()
        .filter(|f| f.sql.is_some())
        .map(|f| f.column)
        .collect();
    found.extend(
        unique_indexes(conn, (key.schema, key.table), key.columns, &written, &table).await?,
    );
    Ok(found)
}

/// Each sent field's column type against sqlx's rule for the field's type
/// ([`GeneratedMySql::column_fits`]), on the types the server reports for a `SELECT` of
/// those columns that reads no row of the table.
async fn column_types(
    conn: &mut MySqlConnection,
    subject: Subject,
    table: &str,
    sent: &[(usize, &TableColumn)],
) -> Result<Vec<Mismatch>, sqlx::Error> {
    if sent.is_empty() {
        return Ok(Vec::new());
    }
    // One row of NULLs whatever the table holds, so that its columns describe the table's
    // columns; not a cached statement, whose description would outlive an `ALTER TABLE`.
    let mut select = String::from("SELECT ");
    for (n, (_, column)) in sent.iter().enumerate() {
        if n > 0 {
            select.push_str(", ");
        }
        select.push_str("`t`.`");
        select.push_str(&column.name.replace('`', "``"));
        select.push('`');
    }
    select.push_str(" FROM (SELECT 1) AS `one` LEFT JOIN ");
    select.push_str(table);
    select.push_str(" AS `t` ON FALSE");
    let row = sqlx::query(sqlx::AssertSqlSafe(select))
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?;
    let mut found = Vec::new();
    for ((index, column), described) in sent.iter().zip(row.columns()) {
        if (subject.column_fits)(*index, described.type_info()) {
            continue;
        }
        let spec = &subject.fields[*index];
        let fix = match spec.class.and_then(column_for) {
            Some(fits) => format!(
                "ALTER TABLE {table} MODIFY `{}` {fits}{}; or give the field the column's type",
                column.name,
                if column.not_null { " NOT NULL" } else { "" }
            ),
            None => "give the field a type sqlx maps to the column's type".to_owned(),
        };
        found.push(mismatch(
            MismatchKind::ColumnType,
            Site::Field(*index),
            Some(spec.field),
            Some(spec.column),
            [
                format!("a column sqlx can write and read as {}", spec.rust_type),
                column.declared.clone(),
                fix,
            ],
        ));
    }
    Ok(found)
}

/// A unique index on exactly the key (or a mismatch saying so), and a mismatch for every
/// other unique index whose columns the struct all writes (an `AUTO_INCREMENT` primary
/// key the struct never sends cannot clash).
async fn unique_indexes(
    conn: &mut MySqlConnection,
    (schema, name): (Option<&str>, &str),
    keys: &[&str],
    written: &[&str],
    table: &str,
) -> Result<Vec<Mismatch>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0 \
         ORDER BY INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(schema)
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let mut indexes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let index: String = row.try_get(0)?;
        let column: String = row.try_get(1)?;
        indexes.entry(index).or_default().push(column);
    }
    let is_key = |columns: &[String]| {
        columns.len() == keys.len()
            && keys
                .iter()
                .all(|k| columns.iter().any(|c| c.eq_ignore_ascii_case(k)))
    };
    let key_list = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut found = Vec::new();
    if !indexes.values().any(|columns| is_key(columns)) {
        found.push(mismatch(
            MismatchKind::NoUniqueIndex,
            Site::Target,
            None,
            None,
            [
                format!("a unique index on ({key_list})"),
                "none".to_owned(),
                format!("ALTER TABLE {table} ADD UNIQUE ({key_list});"),
            ],
        ));
    }
    let all_written = |columns: &[String]| {
        columns
            .iter()
            .all(|c| written.iter().any(|w| c.eq_ignore_ascii_case(w)))
    };
    for (index, columns) in indexes
        .iter()
        .filter(|(_, columns)| !is_key(columns) && all_written(columns))
    {
        found.push(mismatch(
            MismatchKind::OtherUniqueIndex,
            Site::Target,
            None,
            None,
            [
                format!("no unique index but the key's ({key_list}): MySQL's ON DUPLICATE KEY UPDATE fires on any unique index, so a row that clashes only on another one silently updates that other row"),
                format!("unique index `{index}` on ({})", columns.join(", ")),
                format!("drop the index (ALTER TABLE {table} DROP INDEX `{index}`) or make it part of the key; or keep the struct on a table where the key is the only unique index"),
            ],
        ));
    }
    Ok(found)
}
