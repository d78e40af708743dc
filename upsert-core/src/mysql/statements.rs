//! MySQL's and MariaDB's statements: `INSERT .. ON DUPLICATE KEY UPDATE` in the form both
//! accept (`VALUES(col)` for the incoming value: MariaDB rejects MySQL 8.0.20's row
//! alias), and how each tells its outcome without `RETURNING` or `xmax`.
//!
//! - **One row** ([`upsert`], [`insert_or_ignore`]): the first assignment of the update,
//!   to a key column (`k = k`, which changes nothing), calls `LAST_INSERT_ID(mark)`. The
//!   server hands that value back with the statement's answer (sqlx's
//!   `MySqlQueryResult::last_insert_id`): [`UPDATED`] when the stored row was updated,
//!   [`HELD`] when a guard (or `insert_or_ignore`) left it as it was, and otherwise 0 or an
//!   `AUTO_INCREMENT` id for an insert. sqlx sets `CLIENT_FOUND_ROWS`, so the affected-row
//!   count alone cannot tell an insert from an update that changed nothing.
//! - **A batch** ([`upsert_many`]): MySQL applies the rows of one multi-row statement in
//!   order, each meeting what the previous one left, which is one by one already; the
//!   first assignment counts updates and held rows in two session variables (reset by the
//!   statement's first value), read back by [`COUNTS`]. `LAST_INSERT_ID` cannot count there:
//!   an `AUTO_INCREMENT` insert in the middle of the statement overwrites it.
//! - **Guards**: assignments run left to right and see the new values of earlier ones, so
//!   the guard is decided once, in the first assignment, from the stored row, and every
//!   later assignment reads that decision.

use std::fmt::Write as _;

use crate::dialect::Dialect as _;
use crate::model::{Column, Model};
use crate::mysql::MySql;
use crate::role::{Insert, Update};
use crate::sql_buf::SqlBuf;

/// The `LAST_INSERT_ID` of a single-row statement that updated the stored row.
pub const UPDATED: u64 = 9_223_372_036_854_775_807;

/// The `LAST_INSERT_ID` of a single-row statement that found the key stored and left the
/// row as it was (a guard held the update back, or `insert_or_ignore`).
pub const HELD: u64 = UPDATED - 1;

/// The session variable counting a batch statement's updated rows.
const UPDATES: &str = "@__atomic_upsert_updated";

/// The session variable counting a batch statement's rows a guard held back.
const HOLDS: &str = "@__atomic_upsert_held";

/// The session variable holding the current row's guard decision in a batch statement.
const APPLIES: &str = "@__atomic_upsert_applies";

/// Reads what the last batch statement counted: updated rows, held rows.
pub const COUNTS: &str =
    "SELECT CAST(@__atomic_upsert_updated AS SIGNED), CAST(@__atomic_upsert_held AS SIGNED)";

/// The most rows one batch statement takes.
pub const CHUNK_ROWS: usize = 128;

/// The row counts of `model`'s batch statements, largest first: powers of two from
/// [`CHUNK_ROWS`] (fewer when the columns would pass MySQL's 65,535 parameters) down to 1,
/// as on SQLite ([`crate::sqlite::bulk::chunk_rows`]).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::mysql::statements;
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)], None, false);
/// assert_eq!(statements::chunk_rows(&model), [128, 64, 32, 16, 8, 4, 2, 1]);
/// ```
#[must_use]
pub fn chunk_rows(model: &Model) -> Vec<usize> {
    model.chunk_rows(CHUNK_ROWS, 65_535)
}

/// The single-row upsert: `INSERT .. ON DUPLICATE KEY UPDATE`, whose first assignment
/// leaves [`UPDATED`] or [`HELD`] in `LAST_INSERT_ID`.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Strategy, Table};
/// use upsert_core::mysql::statements;
/// let model = Model::new(Table { schema: None, name: "stats" }, ConflictTarget::Keys { predicate: None },
///     [("stats_type", Role::Key), ("runs", Role::Combine(Strategy::Add))], None, false);
/// assert_eq!(
///     statements::upsert(&model),
///     "INSERT INTO `stats` (`stats_type`, `runs`) VALUES (?, ?) ON DUPLICATE KEY UPDATE \
///      `stats_type` = IF(LAST_INSERT_ID(9223372036854775807) = 0, `stats_type`, `stats_type`), \
///      `runs` = `runs` + VALUES(`runs`)"
/// );
/// ```
#[must_use]
pub fn upsert(model: &Model) -> String {
    let mut w = SqlBuf::new(&MySql);
    insert_head(&mut w, model);
    values_row(&mut w, model, false);
    w.push(" ON DUPLICATE KEY UPDATE ");
    let key = first_key(model);
    let mark = match guard(&w, model) {
        Some(guard) => format!("IF({guard}, {UPDATED}, {HELD})"),
        None => UPDATED.to_string(),
    };
    w.ident(key)
        .push(" = IF(LAST_INSERT_ID(")
        .push(&mark)
        .push(") = 0, ")
        .ident(key)
        .push(", ")
        .ident(key)
        .push(")");
    let guarded = model.guard.any();
    for column in updated(model) {
        w.push(", ").ident(column.name).push(" = ");
        let value = w.fragment(|w| new_value_into(w, column));
        if guarded {
            let stored = w.fragment(|w| {
                w.ident(column.name);
            });
            w.push(&format!(
                "IF(LAST_INSERT_ID() = {UPDATED}, {value}, {stored})"
            ));
        } else {
            w.push(&value);
        }
    }
    w.finish()
}

/// MariaDB's single-row upsert returning the stored row: [`upsert`], then `RETURNING` each
/// field's column (`columns`, in field order) and `LAST_INSERT_ID()`, which tells the
/// outcome as the OK packet does for [`upsert`] (MariaDB returns the stored row even when a
/// guard held the update back). MySQL has no `RETURNING`.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::mysql::statements;
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// assert!(statements::upsert_returning(&model, &["name", "color"])
///     .ends_with(" RETURNING `name`, `color`, LAST_INSERT_ID()"));
/// ```
#[must_use]
pub fn upsert_returning(model: &Model, columns: &[&str]) -> String {
    let mut w = SqlBuf::new(&MySql);
    w.push(&upsert(model)).push(" RETURNING ");
    for column in columns {
        w.ident(column).push(", ");
    }
    w.push("LAST_INSERT_ID()");
    w.finish()
}

/// The single-row insert that leaves a stored row alone: the update assigns a key column
/// to itself and leaves [`HELD`] in `LAST_INSERT_ID`. Unlike `INSERT IGNORE`, it turns no
/// other error (a foreign key, a value too long) into a warning.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::mysql::statements;
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// assert!(statements::insert_or_ignore(&model).ends_with(
///     "ON DUPLICATE KEY UPDATE `name` = IF(LAST_INSERT_ID(9223372036854775806) = 0, `name`, `name`)"
/// ));
/// ```
#[must_use]
pub fn insert_or_ignore(model: &Model) -> String {
    let mut w = SqlBuf::new(&MySql);
    insert_head(&mut w, model);
    values_row(&mut w, model, false);
    let key = first_key(model);
    w.push(" ON DUPLICATE KEY UPDATE ")
        .ident(key)
        .push(&format!(" = IF(LAST_INSERT_ID({HELD}) = 0, "))
        .ident(key)
        .push(", ")
        .ident(key)
        .push(")");
    w.finish()
}

/// The batch statement for exactly `rows` rows, applied in order: the first value resets
/// the counters, the first assignment decides the row's guard and counts it; [`COUNTS`]
/// reads them after.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::mysql::statements;
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// let sql = statements::upsert_many(&model, 2);
/// assert!(sql.starts_with(
///     "INSERT INTO `tag` (`name`, `color`) VALUES \
///      (IF((@__atomic_upsert_updated := 0) + (@__atomic_upsert_held := 0) = 0, ?, NULL), ?), (?, ?)"
/// ));
/// assert!(sql.ends_with("`color` = IF(@__atomic_upsert_applies = 1, VALUES(`color`), `color`)"));
/// ```
#[must_use]
pub fn upsert_many(model: &Model, rows: usize) -> String {
    let mut w = SqlBuf::new(&MySql);
    insert_head(&mut w, model);
    for row in 0..rows.max(1) {
        if row > 0 {
            w.push(", ");
        }
        values_row(&mut w, model, row == 0);
    }
    w.push(" ON DUPLICATE KEY UPDATE ");
    let key = first_key(model);
    let decided = guard(&w, model).unwrap_or_else(|| "TRUE".to_owned());
    let keep = w.fragment(|w| {
        w.ident(key);
    });
    let _ = write!(
        w,
        "{keep} = IF(({APPLIES} := IF({decided}, 1, 0)) = 1, \
         IF(({UPDATES} := {UPDATES} + 1) > 0, {keep}, {keep}), \
         IF(({HOLDS} := {HOLDS} + 1) > 0, {keep}, {keep}))"
    );
    for column in updated(model) {
        let value = w.fragment(|w| new_value_into(w, column));
        let stored = w.fragment(|w| {
            w.ident(column.name);
        });
        let _ = write!(w, ", {stored} = IF({APPLIES} = 1, {value}, {stored})");
    }
    w.finish()
}

/// `INSERT INTO `t` (`a`, `b`) VALUES ` over the statement's columns.
fn insert_head(w: &mut SqlBuf, model: &Model) {
    w.push("INSERT INTO ").table(&model.table).push(" (");
    w.list(&model.columns.iter().collect::<Vec<_>>(), |w, c| {
        w.ident(c.name);
    });
    w.push(") VALUES ");
}

/// One row of values, `(?, ?, CURRENT_TIMESTAMP(6))`; the batch's first row also resets
/// the counters, inside its first value.
fn values_row(w: &mut SqlBuf, model: &Model, resets: bool) {
    w.push("(");
    for (i, column) in model.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        let value = match column.insert {
            Insert::Bind => "?",
            Insert::Now => MySql.now(),
        };
        if resets && i == 0 {
            w.push(&format!(
                "IF(({UPDATES} := 0) + ({HOLDS} := 0) = 0, {value}, NULL)"
            ));
        } else {
            w.push(value);
        }
    }
    w.push(")");
}

/// The first key column, which the first assignment sets to itself.
fn first_key<'m>(model: &'m Model) -> &'m str {
    model
        .keys()
        .first()
        .map_or_else(|| model.columns[0].name, |c| c.name)
}

/// The columns a conflict assigns, in field order.
fn updated<'c, 'a>(model: &'c Model<'a>) -> impl Iterator<Item = &'c Column<'a>> {
    model.columns.iter().filter(|c| c.update.is_set())
}

/// A column's new value on conflict, from the stored value (its bare name) and the
/// incoming one (`VALUES(c)`).
fn new_value_into(w: &mut SqlBuf, column: &Column) {
    let stored = w.fragment(|w| {
        w.ident(column.name);
    });
    let incoming = format!("VALUES({stored})");
    match column.update {
        Update::Replace | Update::ReplaceIfSent => {
            w.push(&incoming);
        }
        Update::Now => {
            w.push(MySql.now());
        }
        Update::Combine(strategy) => strategy.set_into(w, &stored, &incoming),
        Update::Key | Update::Keep => {
            w.push(&stored);
        }
    }
}

/// The guard of an update, over the stored row: `version` grows, `skip_unchanged` sees a
/// change. `None` without a guard.
fn guard(w: &SqlBuf, model: &Model) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(version) = model.guard.version {
        let stored = w.fragment(|w| {
            w.ident(version);
        });
        parts.push(format!("VALUES({stored}) > {stored}"));
    }
    if model.guard.skip_unchanged && model.has_updates() {
        let compared: Vec<&Column> = model
            .columns
            .iter()
            .filter(|c| c.update.is_compared())
            .collect();
        let left: Vec<String> = compared
            .iter()
            .map(|c| {
                w.fragment(|w| {
                    w.ident(c.name);
                })
            })
            .collect();
        let right: Vec<String> = compared
            .iter()
            .map(|c| w.fragment(|w| new_value_into(w, c)))
            .collect();
        let mut changed = String::new();
        MySql.distinct_into(&mut changed, &left, &right);
        parts.push(changed);
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{KEYS, table};
    use crate::role::{Role, Strategy};

    #[test]
    fn a_version_guard_decides_once_then_every_column_reads_the_decision() {
        let model = Model::new(
            table("docs"),
            KEYS,
            [
                ("id", Role::Key),
                ("body", Role::Write),
                ("version", Role::Version),
            ],
            None,
            false,
        );
        assert_eq!(
            upsert(&model),
            "INSERT INTO `docs` (`id`, `body`, `version`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE \
             `id` = IF(LAST_INSERT_ID(IF(VALUES(`version`) > `version`, 9223372036854775807, 9223372036854775806)) = 0, `id`, `id`), \
             `body` = IF(LAST_INSERT_ID() = 9223372036854775807, VALUES(`body`), `body`), \
             `version` = IF(LAST_INSERT_ID() = 9223372036854775807, VALUES(`version`), `version`)"
        );
    }

    #[test]
    fn skip_unchanged_compares_with_the_null_safe_row_equality() {
        let model = Model::new(
            table("t"),
            KEYS,
            [
                ("k", Role::Key),
                ("v", Role::Write),
                ("at", Role::UpdatedAt),
            ],
            None,
            true,
        );
        let sql = upsert(&model);
        assert!(
            sql.contains("LAST_INSERT_ID(IF(NOT ((`v`) <=> (VALUES(`v`))), 9223372036854775807"),
            "{sql}"
        );
        assert!(
            sql.contains(
                "`at` = IF(LAST_INSERT_ID() = 9223372036854775807, CURRENT_TIMESTAMP(6), `at`)"
            ),
            "{sql}"
        );
    }

    #[test]
    fn strategies_read_the_stored_and_the_incoming_value() {
        let model = Model::new(
            table("t"),
            KEYS,
            [
                ("k", Role::Key),
                ("hi", Role::Combine(Strategy::Greatest)),
                ("c", Role::Combine(Strategy::Coalesce)),
                ("created", Role::CreatedAt),
            ],
            None,
            false,
        );
        let sql = upsert(&model);
        assert!(
            sql.contains("VALUES (?, ?, ?, CURRENT_TIMESTAMP(6))"),
            "{sql}"
        );
        assert!(
            sql.contains("`hi` = COALESCE(GREATEST(`hi`, VALUES(`hi`)), `hi`, VALUES(`hi`))"),
            "{sql}"
        );
        assert!(sql.contains("`c` = COALESCE(VALUES(`c`), `c`)"), "{sql}");
        assert!(!sql.contains("`created` ="), "{sql}");
    }

    #[test]
    fn a_batch_counts_in_its_first_assignment() {
        let model = Model::new(
            table("t"),
            KEYS,
            [("k", Role::Key), ("n", Role::Combine(Strategy::Add))],
            None,
            false,
        );
        let sql = upsert_many(&model, 3);
        assert_eq!(sql.matches("(?, ?)").count(), 2, "{sql}");
        assert!(
            sql.contains(
                "`k` = IF((@__atomic_upsert_applies := IF(TRUE, 1, 0)) = 1, \
             IF((@__atomic_upsert_updated := @__atomic_upsert_updated + 1) > 0, `k`, `k`), \
             IF((@__atomic_upsert_held := @__atomic_upsert_held + 1) > 0, `k`, `k`))"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("`n` = IF(@__atomic_upsert_applies = 1, `n` + VALUES(`n`), `n`)"),
            "{sql}"
        );
    }

    #[test]
    fn chunks_stay_under_the_parameter_limit() {
        let fields: Vec<(String, Role)> = (0..1000)
            .map(|i| {
                (
                    format!("c{i}"),
                    if i == 0 { Role::Key } else { Role::Write },
                )
            })
            .collect();
        let model = Model::new(
            table("wide"),
            KEYS,
            fields.iter().map(|(n, r)| (n.as_str(), *r)),
            None,
            false,
        );
        assert_eq!(chunk_rows(&model), [64, 32, 16, 8, 4, 2, 1]);
    }
}
