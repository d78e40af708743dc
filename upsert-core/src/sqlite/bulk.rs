//! SQLite's batch statements: a batch goes as chunks of multi-row upserts, each after a
//! count of its keys already stored (for the outcome), under one write lock.

use std::fmt::Write as _;

use crate::clause::OnConflict;
use crate::dialect::Dialect;
use crate::model::{Column, ConflictTarget, Model};
use crate::names;
use crate::sql_buf::SqlBuf;

/// The most rows one SQLite chunk statement takes.
pub const CHUNK_ROWS: usize = 128;

/// The row counts of `model`'s SQLite chunk statements, largest first: powers of two from
/// [`CHUNK_ROWS`] (fewer when the columns would pass SQLite's 32,766 parameters)
/// down to 1. A batch goes as full chunks of the largest, then the remainder's binary
/// digits, so every statement is built at compile time and there are at most eight.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::sqlite::bulk;
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)], None, false);
/// assert_eq!(bulk::chunk_rows(&model), [128, 64, 32, 16, 8, 4, 2, 1]);
/// ```
#[must_use]
pub fn chunk_rows(model: &Model) -> Vec<usize> {
    model.chunk_rows(CHUNK_ROWS, 32_766)
}

/// SQLite's chunk upsert: the single-row upsert with `rows` rows in its `VALUES` list, each
/// row's bound columns in order (row `r`'s column `i` is parameter `r * columns + i + 1`),
/// and no `RETURNING`: the statement's change count is the number of rows that wrote.
///
/// No fold is needed, unlike PostgreSQL's bulk statement: SQLite applies a multi-row
/// `INSERT .. ON CONFLICT` row after row, and a later row may update the row an earlier one
/// inserted, so the statement *is* the batch applied one by one: `add` sums, `insert_only`
/// keeps the first row's value, a `version` or `update_where` guard checks each row against
/// what the earlier rows left. A batch's chunks run in order under one write lock.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Sqlite, Strategy, Table};
/// use upsert_core::sqlite::bulk;
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("n", Role::Combine(Strategy::Add))], None, false);
/// assert_eq!(
///     bulk::upsert_many(&Sqlite, &model, 2),
///     r#"INSERT INTO "t" ("k", "n") VALUES (?, ?), (?, ?) ON CONFLICT ("k") DO UPDATE SET "n" = "t"."n" + EXCLUDED."n""#
/// );
/// ```
#[must_use]
pub fn upsert_many(dialect: &dyn Dialect, model: &Model, rows: usize) -> String {
    let mut w = SqlBuf::new(dialect);
    crate::single::values_statement(&mut w, model, OnConflict::Update, rows);
    w.finish()
}

/// For a chunk of `rows` rows, given as each row's conflict-key columns in order: how many
/// distinct keys it has (a row with a NULL key counts alone, as it never conflicts), and how
/// many of them a stored row already has. Run under the batch's write lock before
/// [`upsert_many`], it splits the rows that wrote into inserts (a key's first row,
/// when the key was not stored) and updates. Keys compare with the field's `collate`.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Sqlite, Table};
/// use upsert_core::sqlite::bulk;
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)], None, false);
/// assert_eq!(
///     bulk::existing_keys(&Sqlite, &model, 2),
///     concat!(
///         r#"SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM "t" WHERE "t"."k" = "__keys"."k")), 0) "#,
///         r#"FROM (SELECT DISTINCT "column1" AS "k", CASE WHEN "column1" IS NULL THEN "column2" END "#,
///         r#"FROM (VALUES (?, 1), (?, 2))) AS "__keys""#
///     )
/// );
/// ```
#[must_use]
pub fn existing_keys(dialect: &dyn Dialect, model: &Model, rows: usize) -> String {
    let keys = model.keys();
    let mut w = SqlBuf::new(dialect);
    let distinct = dialect.quote_ident(names::KEYS);
    w.push("SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM ");
    w.table(&model.table).push(" WHERE ");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        w.qualified(model.table.name, key.name).push(" = ");
        w.qualified(names::KEYS, key.name);
    }
    if let ConflictTarget::Keys {
        predicate: Some(predicate),
    } = model.target
    {
        w.push(" AND (").push(predicate).push(")");
    }
    // A row with a NULL key keeps its ordinal, so DISTINCT (which takes NULLs as equal)
    // leaves it alone, as the unique index does.
    w.push(")), 0) FROM (SELECT DISTINCT ");
    let numbered: Vec<(usize, &&Column)> = keys.iter().enumerate().collect();
    w.list(&numbered, |w, &(i, c)| {
        let _ = write!(w, "\"column{}\"", i + 1);
        if let Some(collate) = c.collate {
            w.push(" COLLATE ").ident(collate);
        }
        w.push(" AS ").ident(c.name);
    });
    w.push(", CASE WHEN ");
    for (i, _) in keys.iter().enumerate() {
        if i > 0 {
            w.push(" OR ");
        }
        let _ = write!(w, "\"column{}\" IS NULL", i + 1);
    }
    let _ = write!(w, " THEN \"column{}\" END FROM (VALUES ", keys.len() + 1);
    for row in 0..rows {
        if row > 0 {
            w.push(", ");
        }
        w.push("(");
        for i in 0..keys.len() {
            w.placeholder(row * keys.len() + i + 1).push(", ");
        }
        let _ = write!(w, "{})", row + 1);
    }
    let _ = write!(w, ")) AS {distinct}");
    w.finish()
}
