//! Clauses shared by the single-row and the bulk statements: the `INSERT INTO` head, the
//! `ON CONFLICT` clause with its `DO UPDATE SET` values and guards, and the "would change"
//! comparison of `skip_unchanged`.

use crate::model::{Column, ConflictTarget, InsertFlag, Model, NullKeys, Table};
use crate::names;
use crate::role::Update;
use crate::sql_buf::SqlBuf;

/// What to do when the key exists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OnConflict {
    Update,
    Nothing,
}

/// `INSERT INTO "schema"."table" ("a", "b")`
pub(crate) fn insert_into(w: &mut SqlBuf, table: &Table, columns: &[Column]) {
    w.push("INSERT INTO ").table(table).push(" (");
    w.list(columns, |w, c| {
        w.ident(c.name);
    });
    w.push(")");
}

/// The stored value of `column`: `"table"."column"` (the target's name is its reference
/// in `DO UPDATE`, which is also how an `update_where` predicate names it).
pub(crate) fn stored_into(w: &mut SqlBuf, table: &Table, column: &str) {
    w.qualified(table.name, column);
}

/// The incoming value of `column`: `EXCLUDED."column"`.
pub(crate) fn excluded_into(w: &mut SqlBuf, column: &str) {
    w.push("EXCLUDED.").ident(column);
}

/// Where a statement finds the value the caller sent for a column, which `EXCLUDED` does
/// not always hold: a `default` field's `None` became the default there, and a `BEFORE
/// INSERT` trigger may have rewritten it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sent<'s> {
    /// One row: the bound columns' placeholders, numbered from 1 in bound order.
    Params,
    /// A batch whose rows (one per key, named as the table's columns) are this CTE: the
    /// values in [`sent_cte`]'s one object, looked up by the conflicting key.
    Rows(&'s str),
}

/// `, "__atomic_upsert_sent" AS (SELECT jsonb_object_agg(ROW(keys)::text,
/// jsonb_build_object('c', c, ..)) FROM rows)`: a batch's sent values by key, built once,
/// for the columns whose update reads the value (`update_from = "sent"`; a `default` column
/// asks only whether it was NULL, see [`sent_null_into`]); none: nothing written.
pub(crate) fn sent_cte(w: &mut SqlBuf, model: &Model, rows: &str) {
    let columns: Vec<&Column> = model
        .columns
        .iter()
        .filter(|c| c.sent || (c.reads_sent() && model.null_keys == NullKeys::NotDistinct))
        .collect();
    if columns.is_empty() {
        return;
    }
    w.push(", ")
        .ident(names::SENT)
        .push(" AS (SELECT pg_catalog.jsonb_object_agg(ROW(");
    w.list(&model.keys(), |w, c| {
        w.push(rows).push(".").ident(c.name);
    });
    w.push(")::text, pg_catalog.jsonb_build_object(");
    w.list(&columns, |w, c| {
        w.string(c.name)
            .push(", ")
            .push(rows)
            .push(".")
            .ident(c.name);
    });
    w.push(")) AS ")
        .ident(names::SENT_OBJECT)
        .push(" FROM ")
        .push(rows)
        .push(")");
}

/// The value the caller sent for `column` (see [`Sent`]).
fn sent_into(w: &mut SqlBuf, model: &Model, column: &Column, sent: Sent) {
    match sent {
        Sent::Params => {
            let n = model
                .bound()
                .iter()
                .position(|c| c.name == column.name)
                .map_or(0, |i| i + 1);
            w.placeholder(n);
        }
        Sent::Rows(_) => {
            // The table's own row type reads the JSON value back exactly as the column's
            // type (every type's text form, arrays as arrays).
            w.push("(pg_catalog.jsonb_populate_record(NULL::")
                .table(&model.table)
                .push(", (SELECT ")
                .ident(names::SENT_OBJECT)
                .push(" FROM ")
                .ident(names::SENT)
                .push(") -> ROW(");
            w.list(&model.keys(), |w, c| excluded_into(w, c.name));
            w.push(")::text)).").ident(column.name);
        }
    }
}

/// Whether the caller sent `None` for `column`. A batch asks its rows directly: the keys
/// whose folded value is NULL, one hashed set built once (`ROW(EXCLUDED.k) IN (SELECT ..)`,
/// cheaper than the value's lookup); a NULL key that conflicts (`NULLS NOT DISTINCT`),
/// which `IN` cannot match, reads the looked-up value.
fn sent_null_into(w: &mut SqlBuf, model: &Model, column: &Column, sent: Sent) {
    match sent {
        Sent::Rows(rows) if model.null_keys != NullKeys::NotDistinct => {
            w.push("ROW(");
            w.list(&model.keys(), |w, c| excluded_into(w, c.name));
            w.push(") IN (SELECT ");
            w.list(&model.keys(), |w, c| {
                w.push(rows).push(".").ident(c.name);
            });
            w.push(" FROM ")
                .push(rows)
                .push(" WHERE ")
                .push(rows)
                .push(".");
            w.ident(column.name).push(" IS NULL)");
        }
        _ => {
            sent_into(w, model, column, sent);
            w.push(" IS NULL");
        }
    }
}

/// The value `column` takes on conflict (for a key or `insert_only` column: the stored one).
pub(crate) fn set_value_into(w: &mut SqlBuf, model: &Model, column: &Column, sent: Sent) {
    let stored = w.fragment(|w| stored_into(w, &model.table, column.name));
    let incoming = w.fragment(|w| {
        if column.sent {
            sent_into(w, model, column, sent);
        } else {
            excluded_into(w, column.name);
        }
    });
    match column.update {
        Update::Key | Update::Keep => {
            w.push(&stored);
        }
        Update::Now => {
            w.now();
        }
        Update::Replace => {
            w.push(&incoming);
        }
        Update::ReplaceIfSent if column.sent => {
            w.push("COALESCE(")
                .push(&incoming)
                .push(", ")
                .push(&stored)
                .push(")");
        }
        Update::ReplaceIfSent => {
            w.push("CASE WHEN ");
            sent_null_into(w, model, column, sent);
            w.push(" THEN ")
                .push(&stored)
                .push(" ELSE ")
                .push(&incoming)
                .push(" END");
        }
        Update::Combine(strategy) => strategy.set_into(w, &stored, &incoming),
    }
}

/// The value `column` inserts from `value`: `COALESCE(value, default)` for a `default`
/// field (its `None` takes the column's default), else `value`.
pub(crate) fn insert_value_into(w: &mut SqlBuf, column: &Column, value: &str) {
    match column.default {
        Some(default) => {
            w.push("COALESCE(")
                .push(value)
                .push(", ")
                .push(default)
                .push(")");
        }
        None => {
            w.push(value);
        }
    }
}

/// `("t"."a", ..) IS DISTINCT FROM (<new a>, ..)` over the compared columns: whether the
/// update would change anything (`skip_unchanged`).
pub(crate) fn changed_into(w: &mut SqlBuf, model: &Model, sent: Sent) {
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
        .map(|c| w.fragment(|w| set_value_into(w, model, c, sent)))
        .collect();
    let mut out = String::new();
    w.dialect().distinct_into(&mut out, &left, &right);
    w.push(&out);
}

/// `"a" = <its value on conflict>, ..` over the columns a conflict updates: the `SET` list
/// of `DO UPDATE` (and of SQLite's `UPDATE` of a stored row).
pub(crate) fn set_list_into(w: &mut SqlBuf, model: &Model, sent: Sent) {
    let updates: Vec<&Column> = model.columns.iter().filter(|c| c.update.is_set()).collect();
    w.list(&updates, |w, c| {
        w.ident(c.name).push(" = ");
        set_value_into(w, model, c, sent);
    });
}

/// ` ON CONFLICT (..) DO UPDATE SET .. [WHERE ..]`, or ` .. DO NOTHING`.
pub(crate) fn conflict_clause(w: &mut SqlBuf, model: &Model, on_conflict: OnConflict, sent: Sent) {
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
    set_list_into(w, model, sent);
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
        conditions.push(w.fragment(|w| changed_into(w, model, sent)));
    }
    if model.flag == InsertFlag::Marker {
        // Record the key of a row the update goes ahead on, and only then: the CASE
        // evaluates the guards first (an AND may be evaluated in any order).
        let mark = w.fragment(|w| {
            w.push("set_config('")
                .push(InsertFlag::MARKER_SETTING)
                .push("', ");
            key_tag_into(w, model, true);
            w.push(", true) IS NOT NULL");
        });
        if conditions.is_empty() {
            w.push(" WHERE ").push(&mark);
        } else {
            w.push(" WHERE CASE WHEN ")
                .push(&conditions.join(" AND "))
                .push(" THEN ")
                .push(&mark)
                .push(" ELSE false END");
        }
    } else if !conditions.is_empty() {
        w.push(" WHERE ").push(&conditions.join(" AND "));
    }
}

/// `ROW(<key columns>)::text`: the stored row's (`stored`, inside `DO UPDATE`) or the
/// written row's (in `RETURNING`), the tag [`InsertFlag::Marker`] records.
fn key_tag_into(w: &mut SqlBuf, model: &Model, stored: bool) {
    w.push("ROW(");
    w.list(&model.keys(), |w, c| {
        if stored {
            stored_into(w, &model.table, c.name);
        } else {
            w.ident(c.name);
        }
    });
    w.push(")::text");
}

/// The `RETURNING` expression that is true for an inserted row and false for an updated
/// one, as `model.flag` says; `true` under [`InsertFlag::Old`] and
/// [`InsertFlag::Marker`] for a statement that cannot update (`DO NOTHING`).
pub(crate) fn inserted_flag_into(w: &mut SqlBuf, model: &Model, on_conflict: OnConflict) {
    let updates = on_conflict == OnConflict::Update && model.has_updates();
    match model.flag {
        InsertFlag::Xmax => {
            w.inserted_flag();
        }
        InsertFlag::Old | InsertFlag::Marker if !updates => {
            w.push("true");
        }
        InsertFlag::Old => {
            // `old` is the NULL value for an inserted row; `old IS NULL` would also be
            // true for a stored row whose columns are all NULL (a NULLS NOT DISTINCT key).
            w.push("(old IS NOT DISTINCT FROM NULL)");
        }
        InsertFlag::Marker => {
            let setting = InsertFlag::MARKER_SETTING;
            w.push("(CASE WHEN current_setting('")
                .push(setting)
                .push("', true) = ");
            key_tag_into(w, model, false);
            w.push(" THEN set_config('")
                .push(setting)
                .push("', '', true) IS NULL ELSE true END)");
        }
    }
}
