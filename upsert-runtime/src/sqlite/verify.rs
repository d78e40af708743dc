//! `verify` on SQLite: the struct against SQLite's catalog (`pragma_table_xinfo`,
//! `pragma_index_list`, `pragma_index_xinfo`), then every statement prepared, which is where
//! SQLite checks an `ON CONFLICT` target against the table's unique indexes. Nothing runs.

use sqlx::Executor as _;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use upsert_core::sqlite::types::{Affinity, declared_affinity};
use upsert_core::{ConflictTarget, Role};

use crate::dispatch::VerifiesAll;
use crate::error::Error;
use crate::postgres::generated::{FieldSpec, Generated};
use crate::postgres::verify::Probe;
use crate::report::{Mismatch, MismatchKind, Site, mismatch};
use crate::sqlite::generated::GeneratedSqlite;
use crate::verifying::{Registered, RegisteredVerify, VerifyFuture, verified};

crate::verifying::verify_registry! {
    "SQLite": Sqlite, SqliteConnection, GeneratedSqlite<Sqlite>, ProbeSqlite, ProbeNotSqlite, registered_sqlite
}

/// A column as `pragma_table_xinfo` gives it.
struct TableColumn {
    name: String,
    declared: String,
    not_null: bool,
    /// A generated column.
    hidden: bool,
    /// Filled when not written: a default, or the table's one `INTEGER PRIMARY KEY`
    /// column (a rowid alias).
    fills_itself: bool,
}

/// Every way `T` and its table disagree: [`mismatches_of`] on `T`'s constants, so that a
/// struct compiles no `verify` of its own.
async fn mismatches<T>(conn: &mut SqliteConnection) -> Result<Vec<Mismatch>, sqlx::Error>
where
    T: GeneratedSqlite<Sqlite> + Generated,
{
    mismatches_of(conn, Subject::of::<T>()).await
}

/// What `verify` checks of a struct on SQLite, read from its constants.
#[derive(Clone, Copy)]
struct Subject {
    key: crate::error::TableKey,
    fields: &'static [FieldSpec],
    target: ConflictTarget<'static>,
    plan: crate::sqlite::generated::SqlitePlan,
}

impl Subject {
    fn of<T: GeneratedSqlite<Sqlite> + Generated>() -> Self {
        Subject {
            key: T::KEY,
            fields: T::PLAN.fields,
            target: T::PLAN.target,
            plan: T::SQLITE,
        }
    }
}

/// Every way the struct `subject` describes and its table disagree.
async fn mismatches_of(
    conn: &mut SqliteConnection,
    subject: Subject,
) -> Result<Vec<Mismatch>, sqlx::Error> {
    let table = subject.key.table;
    let columns = columns(conn, table).await?;
    if columns.is_empty() {
        return Ok(vec![mismatch(
            MismatchKind::MissingTable,
            Site::Table,
            None,
            None,
            [
                format!("table \"{table}\""),
                "no such table".to_owned(),
                format!(
                    "create table \"{table}\", or name the right one with #[upsert(table = \"..\")]"
                ),
            ],
        )]);
    }
    let mut found = Vec::new();
    for (index, spec) in subject.fields.iter().enumerate() {
        let affinity = subject.plan.affinities.get(index).copied().flatten();
        check_field(&mut found, table, index, spec, affinity, &columns);
    }
    check_unwritten(&mut found, subject.fields, &columns);
    check_key_collations(&mut found, conn, table, subject.fields).await?;
    if found.is_empty() {
        found.extend(check_statements(conn, subject).await?);
    }
    Ok(found)
}

async fn columns(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<TableColumn>, sqlx::Error> {
    let rows: Vec<(String, String, bool, bool, i64, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, hidden, pk FROM pragma_table_xinfo(?1)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    let keys = rows.iter().filter(|row| row.5 > 0).count();
    Ok(rows
        .into_iter()
        .map(
            |(name, declared, not_null, has_default, hidden, pk)| TableColumn {
                fills_itself: has_default
                    || (keys == 1 && pk == 1 && declared.eq_ignore_ascii_case("INTEGER")),
                name,
                declared,
                not_null,
                hidden: hidden != 0,
            },
        )
        .collect())
}

/// A field's column: present, writable, nullable as the field is, with an affinity that
/// keeps the field's values as sent.
fn check_field(
    found: &mut Vec<Mismatch>,
    table: &str,
    index: usize,
    spec: &FieldSpec,
    affinity: Option<Affinity>,
    columns: &[TableColumn],
) {
    let (field, column) = (Some(spec.field), Some(spec.column));
    let site = Site::Field(index);
    let Some(stored) = columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(spec.column))
    else {
        found.push(mismatch(
            MismatchKind::MissingColumn,
            site,
            field,
            column,
            [
                format!("a column \"{}\"", spec.column),
                "no such column".to_owned(),
                format!(
                    "ALTER TABLE \"{table}\" ADD COLUMN \"{}\" ..; or rename the field's column with #[upsert(rename = \"..\")], or #[upsert(skip)] it",
                    spec.column
                ),
            ],
        ));
        return;
    };
    if spec.sql.is_none() {
        return;
    }
    if stored.hidden {
        found.push(mismatch(
            MismatchKind::GeneratedColumn,
            site,
            field,
            column,
            [
                "a column it can write".to_owned(),
                "a generated column".to_owned(),
                "mark the field #[upsert(skip)]".to_owned(),
            ],
        ));
    }
    if spec.optional && stored.not_null {
        found.push(mismatch(
            MismatchKind::NullableField,
            site,
            field,
            column,
            [
                format!("a nullable column (the field is {})", spec.rust_type),
                "NOT NULL".to_owned(),
                "make the field non-Option, or drop NOT NULL from the column".to_owned(),
            ],
        ));
    }
    if let Some(wanted) = affinity.map(Affinity::accepted) {
        let affinity = declared_affinity(&stored.declared);
        if !wanted.contains(&affinity) {
            found.push(mismatch(
                MismatchKind::ColumnType,
                site,
                field,
                column,
                [
                    format!("{} affinity for {}", wanted[0], spec.rust_type),
                    format!(
                        "{:?} ({affinity} affinity): SQLite would convert the values, and they would not read back",
                        stored.declared
                    ),
                    format!("declare the column {}, or change the field's type", wanted[0]),
                ],
            ));
        }
    }
}

/// A `NOT NULL` column with no default that no field writes fails every insert.
fn check_unwritten(found: &mut Vec<Mismatch>, fields: &[FieldSpec], columns: &[TableColumn]) {
    for stored in columns {
        let written = fields.iter().any(|f| {
            (f.sql.is_some() || matches!(f.role, Role::CreatedAt | Role::UpdatedAt))
                && f.column.eq_ignore_ascii_case(&stored.name)
        });
        if stored.not_null && !stored.fills_itself && !stored.hidden && !written {
            found.push(mismatch(
                MismatchKind::UnwrittenNotNull,
                Site::Table,
                None,
                Some(&stored.name),
                [
                    "every NOT NULL column without a default written".to_owned(),
                    "a NOT NULL column the struct never writes".to_owned(),
                    format!(
                        "add a field for \"{}\", or give the column a DEFAULT",
                        stored.name
                    ),
                ],
            ));
        }
    }
}

/// A key compared by a collation other than `BINARY` (`NOCASE`, `RTRIM`) must be folded by
/// the same one in a batch: `#[upsert(collate)]`.
async fn check_key_collations(
    found: &mut Vec<Mismatch>,
    conn: &mut SqliteConnection,
    table: &str,
    fields: &[FieldSpec],
) -> Result<(), sqlx::Error> {
    for (index, spec) in fields.iter().enumerate() {
        if spec.role != Role::Key {
            continue;
        }
        let collation: Option<String> = sqlx::query_scalar(
            "SELECT x.coll FROM pragma_index_list(?1) AS l, pragma_index_xinfo(l.name) AS x \
             WHERE l.\"unique\" AND x.name = ?2 COLLATE NOCASE AND x.key LIMIT 1",
        )
        .bind(table)
        .bind(spec.column)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(collation) = collation
            && !collation.eq_ignore_ascii_case("BINARY")
            && !spec
                .collate
                .is_some_and(|c| c.eq_ignore_ascii_case(&collation))
        {
            found.push(mismatch(
                MismatchKind::KeyEquality,
                Site::Field(index),
                Some(spec.field),
                Some(spec.column),
                [
                    "keys compared bytewise, as a batch folds them".to_owned(),
                    format!("the unique index compares with COLLATE {collation}"),
                    format!("add #[upsert(collate = \"{collation}\")] to the field"),
                ],
            ));
        }
    }
    Ok(())
}

/// Each statement prepared (not run): SQLite rejects an `ON CONFLICT` target without a
/// matching unique index here, and anything else it would reject at the first write.
async fn check_statements(
    conn: &mut SqliteConnection,
    subject: Subject,
) -> Result<Option<Mismatch>, sqlx::Error> {
    let plan = subject.plan;
    let chunk = plan.chunks.first().map(|c| [c.upsert_sql, c.existing_sql]);
    let statements = [
        plan.upsert_sql,
        plan.insert_or_ignore_sql,
        plan.returning_sql,
        plan.probe_sql,
    ]
    .into_iter()
    .chain(chunk.into_iter().flatten());
    for sql in statements {
        let Err(error) = conn.prepare(sqlx::SqlSafeStr::into_sql_str(sql)).await else {
            continue;
        };
        let sqlx::Error::Database(db) = &error else {
            return Err(error);
        };
        let message = db.message().to_owned();
        let predicate = match subject.target {
            ConflictTarget::Keys { predicate } => predicate,
            ConflictTarget::Constraint(_) => None,
        };
        let (kind, fix) = if message.contains("ON CONFLICT clause does not match") {
            let table = upsert_core::Table {
                schema: None,
                name: subject.key.table,
            };
            (
                MismatchKind::NoUniqueIndex,
                upsert_core::verify::create_unique_index(
                    &upsert_core::Sqlite,
                    &table,
                    subject.key.columns,
                    predicate,
                ),
            )
        } else {
            (
                MismatchKind::Statement,
                "change the table or the struct until SQLite accepts the statement".to_owned(),
            )
        };
        return Ok(Some(mismatch(
            kind,
            Site::Target,
            None,
            None,
            [
                "SQLite to accept the struct's statements".to_owned(),
                format!("{message} in: {sql}"),
                fix,
            ],
        )));
    }
    Ok(None)
}
