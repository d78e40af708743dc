//! Clauses shared by the single-row and the bulk statements: the `INSERT INTO` head, the
//! `ON CONFLICT` clause with its `DO UPDATE SET` values and guards, and the "would change"
//! comparison of `skip_unchanged`.

use crate::model::{Column, ConflictTarget, Model, Table, Update};
use crate::writer::Writer;

/// What to do when the key exists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OnConflict {
    Update,
    Nothing,
}

/// `INSERT INTO "schema"."table" ("a", "b")`
pub(crate) fn insert_into(w: &mut Writer, table: &Table, columns: &[Column]) {
    w.push("INSERT INTO ").table(table).push(" (");
    w.list(columns, |w, c| {
        w.ident(c.name);
    });
    w.push(")");
}

/// The stored value of `column`: `"table"."column"` (the target's name is its reference
/// in `DO UPDATE`, which is also how an `update_where` predicate names it).
pub(crate) fn stored_into(w: &mut Writer, table: &Table, column: &str) {
    w.qualified(table.name, column);
}

/// The incoming value of `column`: `EXCLUDED."column"`.
pub(crate) fn excluded_into(w: &mut Writer, column: &str) {
    w.push("EXCLUDED.").ident(column);
}

/// The value `column` takes on conflict (for a key or `insert_only` column: the stored one).
pub(crate) fn set_value_into(w: &mut Writer, table: &Table, column: &Column) {
    let stored = w.fragment(|w| stored_into(w, table, column.name));
    let excluded = w.fragment(|w| excluded_into(w, column.name));
    match column.update {
        Update::Key | Update::Keep => {
            w.push(&stored);
        }
        Update::Now => {
            w.now();
        }
        Update::Replace => {
            w.push(&excluded);
        }
        Update::Combine(strategy) => strategy.set_into(w, &stored, &excluded),
    }
}

/// `("t"."a", ..) IS DISTINCT FROM (<new a>, ..)` over the compared columns: whether the
/// update would change anything (`skip_unchanged`).
pub(crate) fn changed_into(w: &mut Writer, model: &Model) {
    let compared: Vec<&Column> = model
        .columns
        .iter()
        .filter(|c| c.update.is_compared())
        .collect();
    let left: Vec<String> = compared
        .iter()
        .map(|c| w.fragment(|w| stored_into(w, &model.table, c.name)))
        .collect();
    let right: Vec<String> = compared
        .iter()
        .map(|c| w.fragment(|w| set_value_into(w, &model.table, c)))
        .collect();
    let mut out = String::new();
    w.dialect().distinct_into(&mut out, &left, &right);
    w.push(&out);
}

/// `"a" = <its value on conflict>, ..` over the columns a conflict updates: the `SET` list
/// of `DO UPDATE` (and of SQLite's `UPDATE` of a stored row).
pub(crate) fn set_list_into(w: &mut Writer, model: &Model) {
    let updates: Vec<&Column> = model.columns.iter().filter(|c| c.update.is_set()).collect();
    w.list(&updates, |w, c| {
        w.ident(c.name).push(" = ");
        set_value_into(w, &model.table, c);
    });
}

/// ` ON CONFLICT (..) DO UPDATE SET .. [WHERE ..]`, or ` .. DO NOTHING`.
pub(crate) fn conflict_clause(w: &mut Writer, model: &Model, on_conflict: OnConflict) {
    w.push(" ON CONFLICT ");
    match model.target {
        ConflictTarget::Keys { predicate } => {
            w.push("(");
            w.list(&model.keys(), |w, c| {
                w.ident(c.name);
            });
            w.push(")");
            if let Some(predicate) = predicate {
                w.push(" WHERE (").push(predicate).push(")");
            }
        }
        ConflictTarget::Constraint(name) => {
            w.push("ON CONSTRAINT ").ident(name);
        }
    }
    if on_conflict == OnConflict::Nothing || !model.has_updates() {
        w.push(" DO NOTHING");
        return;
    }
    w.push(" DO UPDATE SET ");
    set_list_into(w, model);
    let mut conditions: Vec<String> = Vec::new();
    if let Some(version) = model.guard.version {
        conditions.push(w.fragment(|w| {
            excluded_into(w, version);
            w.push(" > ");
            stored_into(w, &model.table, version);
        }));
    }
    if let Some(predicate) = model.guard.update_where {
        conditions.push(format!("({predicate})"));
    }
    if model.guard.skip_unchanged {
        conditions.push(w.fragment(|w| changed_into(w, model)));
    }
    if !conditions.is_empty() {
        w.push(" WHERE ").push(&conditions.join(" AND "));
    }
}
