//! Single-row statements: `upsert`, `upsert_returning` and `insert_or_ignore`. Each sends
//! the bound columns as `$1..$n` in field order and answers in the same round trip.

use std::fmt::Write as _;

use crate::clause::{
    OnConflict, Sent, changed_into, conflict_clause, excluded_into, insert_into, insert_value_into,
    inserted_flag_into, stored_into,
};
use crate::dialect::Dialect;
use crate::model::{ConflictTarget, Model, NullKeys, Unwritten};
use crate::names;
use crate::role::Insert;
use crate::sql_buf::SqlBuf;

/// `INSERT .. ON CONFLICT .. DO UPDATE SET .. [WHERE guard]` (or `DO NOTHING` when no
/// column is updatable), returning the dialect's insert flag: true for an insert, false for
/// an update, no row when nothing was written.
///
/// When [`Model::unwritten`] is [`Unwritten::Told`] (`skip_unchanged` beside a `version`
/// or `update_where` guard), an unwritten row can be stale or unchanged; the statement then
/// also returns one NULL row when the stored row (as the statement's snapshot sees it)
/// already holds every incoming value:
///
/// ```sql
/// WITH "__written" AS (<upsert> RETURNING (xmax = 0) AS "inserted")
/// SELECT "inserted" FROM "__written" UNION ALL
/// SELECT NULL FROM (VALUES ($1, ..)) AS "excluded"(<bound columns>)
/// WHERE NOT EXISTS (SELECT FROM "__written")
///   AND EXISTS (SELECT FROM <table> WHERE <key matches> AND NOT <changed>)
/// ```
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// assert!(single::upsert(&Postgres, &model).ends_with(r#"DO UPDATE SET "color" = EXCLUDED."color" RETURNING (xmax = 0)"#));
/// ```
#[must_use]
pub fn upsert(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    if model.unwritten() != Unwritten::Told {
        statement(&mut w, model, OnConflict::Update);
        w.push(" RETURNING ");
        inserted_flag_into(&mut w, model, OnConflict::Update);
        return w.finish();
    }
    let (written, inserted) = (
        dialect.quote_ident(names::WRITTEN),
        dialect.quote_ident(names::INSERTED),
    );
    w.push("WITH ").push(&written).push(" AS (");
    statement(&mut w, model, OnConflict::Update);
    w.push(" RETURNING ");
    inserted_flag_into(&mut w, model, OnConflict::Update);
    w.push(" AS ").push(&inserted);
    w.push(") SELECT ")
        .push(&inserted)
        .push(" FROM ")
        .push(&written);
    w.push(" UNION ALL SELECT NULL FROM (VALUES (");
    let bound = model.bound();
    w.placeholders(bound.len());
    w.push(")) AS ").ident(names::EXCLUDED).push("(");
    w.list(&bound, |w, c| {
        w.ident(c.name);
    });
    w.push(") WHERE NOT EXISTS (SELECT FROM ").push(&written);
    w.push(") AND EXISTS (SELECT FROM ").table(&model.table);
    // Unqualified names in the subquery resolve to the table first: the key match and an
    // index predicate cannot clash with the `excluded` row's columns.
    w.push(" WHERE (");
    let keys = model.keys();
    w.list(&keys, |w, c| stored_into(w, &model.table, c.name));
    w.push(") = (");
    w.list(&keys, |w, c| excluded_into(w, c.name));
    w.push(")");
    if let ConflictTarget::Keys {
        predicate: Some(predicate),
    } = model.target
    {
        w.push(" AND (").push(predicate).push(")");
    }
    w.push(" AND NOT ");
    changed_into(&mut w, model, Sent::Params);
    w.push(")");
    w.finish()
}

/// The upsert returning the stored row's `columns`, in order.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// let columns = [single::Returned { name: "name", cast: None }, single::Returned { name: "color", cast: Some("text") }];
/// assert!(single::upsert_returning(&Postgres, &model, &columns).ends_with(r#"RETURNING "name", "color"::text AS "color""#));
/// ```
#[must_use]
pub fn upsert_returning(dialect: &dyn Dialect, model: &Model, columns: &[Returned]) -> String {
    let mut w = SqlBuf::new(dialect);
    statement(&mut w, model, OnConflict::Update);
    w.push(" RETURNING ");
    returning_list(&mut w, columns);
    w.finish()
}

/// The upsert of [`upsert_returning`], returning every column of the stored row
/// (`RETURNING *`): what `upsert_returning_as` reads into a separate read model, with the
/// columns the struct does not write (a serial id, defaulted columns).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// assert!(single::upsert_returning_row(&Postgres, &model).ends_with(r#"DO UPDATE SET "color" = EXCLUDED."color" RETURNING *"#));
/// ```
#[must_use]
pub fn upsert_returning_row(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    statement(&mut w, model, OnConflict::Update);
    w.push(" RETURNING *");
    w.finish()
}

/// `INSERT .. ON CONFLICT .. DO NOTHING`, returning the insert flag for an inserted row.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// assert!(single::insert_or_ignore(&Postgres, &model).ends_with(r#"ON CONFLICT ("name") DO NOTHING RETURNING (xmax = 0)"#));
/// ```
#[must_use]
pub fn insert_or_ignore(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    statement(&mut w, model, OnConflict::Nothing);
    w.push(" RETURNING ");
    inserted_flag_into(&mut w, model, OnConflict::Nothing);
    w.finish()
}

/// `INSERT .. ON CONFLICT .. DO NOTHING RETURNING <columns>`: the first half of
/// get-or-create (a row back means this call inserted it).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// let columns = [single::Returned { name: "name", cast: None }, single::Returned { name: "color", cast: None }];
/// assert!(single::insert_or_ignore_returning(&Postgres, &model, &columns).ends_with(r#"DO NOTHING RETURNING "name", "color""#));
/// ```
#[must_use]
pub fn insert_or_ignore_returning(
    dialect: &dyn Dialect,
    model: &Model,
    columns: &[Returned],
) -> String {
    let mut w = SqlBuf::new(dialect);
    statement(&mut w, model, OnConflict::Nothing);
    w.push(" RETURNING ");
    returning_list(&mut w, columns);
    w.finish()
}

/// [`insert_or_ignore_returning`] returning every column (`RETURNING *`), for a read model.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// assert!(single::insert_or_ignore_returning_row(&Postgres, &model).ends_with("DO NOTHING RETURNING *"));
/// ```
#[must_use]
pub fn insert_or_ignore_returning_row(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    statement(&mut w, model, OnConflict::Nothing);
    w.push(" RETURNING *");
    w.finish()
}

/// [`select_by_key`] of every column (`SELECT *`), for a read model.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// assert!(single::select_row_by_key(&Postgres, &model).starts_with(r#"SELECT * FROM "tag" WHERE"#));
/// ```
#[must_use]
pub fn select_row_by_key(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("SELECT *");
    key_condition(&mut w, model);
    w.finish()
}

/// `SELECT <columns> FROM <table> WHERE <key> = ($1, ..)`, the keys bound in field order,
/// restricted to the partial index's rows (`conflict_where`); NULL keys match each other
/// under [`NullKeys::NotDistinct`]. The second half of get-or-create.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: Some("NOT deleted") },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(
///     single::select_by_key(&Postgres, &model, &[single::Returned { name: "name", cast: None }, single::Returned { name: "color", cast: None }]),
///     r#"SELECT "name", "color" FROM "tag" WHERE "name" = $1 AND (NOT deleted)"#
/// );
/// ```
#[must_use]
pub fn select_by_key(dialect: &dyn Dialect, model: &Model, columns: &[Returned]) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("SELECT ");
    returning_list(&mut w, columns);
    key_condition(&mut w, model);
    w.finish()
}

/// SQLite's update of a stored row, as the upsert's `DO UPDATE` would do it, for a model
/// with columns to update and no guard: `UPDATE .. SET <the same SET list> FROM (SELECT ?
/// AS "k", ..) AS "excluded" WHERE <key matches> RETURNING 1`. It binds what the upsert
/// binds. A returned row is an update; none means no stored row has the key, and an
/// `INSERT .. ON CONFLICT DO NOTHING` then inserts it (or meets a row inserted meanwhile,
/// and the update is tried again). Each statement is atomic on its own, so the outcome is
/// exact without holding the write lock across statements. `None` for other models (a
/// guard, nothing to update, a partial-index target).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Sqlite, Strategy, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "stats" },
///     ConflictTarget::Keys { predicate: None },
///     [("stats_type", Role::Key), ("runs", Role::Combine(Strategy::Add))],
///     None,
///     false,
/// );
/// assert_eq!(
///     single::update_stored(&Sqlite, &model).unwrap(),
///     concat!(
///         r#"UPDATE "stats" SET "runs" = "stats"."runs" + EXCLUDED."runs" "#,
///         r#"FROM (SELECT ? AS "stats_type", ? AS "runs") AS "excluded" "#,
///         r#"WHERE "stats"."stats_type" = "excluded"."stats_type" RETURNING 1"#
///     )
/// );
/// ```
#[must_use]
pub fn update_stored(dialect: &dyn Dialect, model: &Model) -> Option<String> {
    if model.guard.any() || !model.has_updates() {
        return None;
    }
    // A partial-index target: a stored row outside the predicate is not the conflict, and
    // the predicate's unqualified names could clash with the incoming columns; the probe
    // path handles it.
    let ConflictTarget::Keys { predicate: None } = model.target else {
        return None;
    };
    let mut w = SqlBuf::new(dialect);
    w.push("UPDATE ").table(&model.table).push(" SET ");
    crate::clause::set_list_into(&mut w, model, Sent::Params);
    w.push(" FROM (SELECT ");
    let bound = model.bound();
    let numbered: Vec<(usize, &&crate::model::Column)> = bound.iter().enumerate().collect();
    w.list(&numbered, |w, &(i, c)| {
        w.placeholder(i + 1).push(" AS ").ident(c.name);
    });
    w.push(") AS ").ident(names::EXCLUDED).push(" WHERE ");
    for (i, key) in model.keys().iter().enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        stored_into(&mut w, &model.table, key.name);
        w.push(" = ").qualified(names::EXCLUDED, key.name);
    }
    w.push(" RETURNING 1");
    Some(w.finish())
}

/// The outcome probe of a backend without `xmax` (SQLite, for guarded models): a row when a
/// stored row has the key (the conflict the write will meet, partial-index predicate
/// included), none otherwise. Binds the key fields, in order. Run under the same write lock
/// as the write, it tells an insert from an update.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Sqlite, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "strava_stats" },
///     ConflictTarget::Keys { predicate: None },
///     [("stats_type", Role::Key), ("data", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(
///     single::probe(&Sqlite, &model),
///     r#"SELECT 1 FROM "strava_stats" WHERE "stats_type" = ?"#
/// );
/// ```
#[must_use]
pub fn probe(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("SELECT 1");
    key_condition(&mut w, model);
    w.finish()
}

/// ` FROM "t" WHERE "k" = $1 AND .. AND (predicate)`: the stored row with the key.
fn key_condition(w: &mut SqlBuf, model: &Model) {
    w.push(" FROM ").table(&model.table).push(" WHERE ");
    let equals = if model.null_keys == NullKeys::NotDistinct {
        " IS NOT DISTINCT FROM "
    } else {
        " = "
    };
    for (i, key) in model.keys().iter().enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        // The key compares as the unique index did: converted as a batch converts it
        // (`sql_type`, `collate`), so that a `citext` key is not compared as `text`. A
        // type named with its schema (`ext.citext`) has its `=` there, which the
        // `search_path` may not hold: named too, or `=` would cast both sides to `text`.
        let value = w.fragment(|w| {
            w.placeholder(i + 1);
            if let Some(cast) = key.cast {
                w.push("::").push(cast);
            }
            if let Some(collate) = key.collate {
                w.push(" COLLATE ").ident(collate);
            }
        });
        let name = w.dialect().quote_ident(key.name);
        match key.cast.and_then(|cast| cast.rsplit_once('.')) {
            None => {
                w.push(&name).push(equals).push(&value);
            }
            Some((schema, _)) if model.null_keys == NullKeys::NotDistinct => {
                let _ = write!(
                    w,
                    "({name} OPERATOR({schema}.=) {value} OR ({name} IS NULL AND {value} IS NULL))"
                );
            }
            Some((schema, _)) => {
                let _ = write!(w, "{name} OPERATOR({schema}.=) {value}");
            }
        }
    }
    if let ConflictTarget::Keys {
        predicate: Some(predicate),
    } = model.target
    {
        w.push(" AND (").push(predicate).push(")");
    }
}

/// A column a statement returns, and the SQL type to cast it to. The cast fixes the
/// result's type whatever the column's is: a prepared statement does not go stale when the
/// column's type changes (`ALTER TABLE .. TYPE`), and a value that does not fit the field
/// fails the statement (nothing written) instead of failing to decode after the write.
///
/// ```
/// let r = upsert_core::single::Returned { name: "total", cast: Some("int8") };
/// assert_eq!(r.name, "total");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Returned<'a> {
    /// The column.
    pub name: &'a str,
    /// The type to cast it to, when the field's type has a fixed one.
    pub cast: Option<&'a str>,
}

/// `"a", "b"::int8 AS "b", ..`
fn returning_list(w: &mut SqlBuf, columns: &[Returned]) {
    w.list(columns, |w, column| {
        w.ident(column.name);
        if let Some(cast) = column.cast {
            w.push("::").push(cast).push(" AS ").ident(column.name);
        }
    });
}

/// `INSERT INTO .. VALUES ($1, .., now(), ..) ON CONFLICT ..`
fn statement(w: &mut SqlBuf, model: &Model, on_conflict: OnConflict) {
    values_statement(w, model, on_conflict, 1);
}

/// `INSERT .. VALUES (..), (..) ON CONFLICT ..` with `rows` rows, the bound columns of each
/// row numbered after the previous row's.
pub(crate) fn values_statement(
    w: &mut SqlBuf,
    model: &Model,
    on_conflict: OnConflict,
    rows: usize,
) {
    insert_into(w, &model.table, &model.columns);
    w.push(" VALUES ");
    let mut next_param = 0;
    for row in 0..rows {
        if row > 0 {
            w.push(", ");
        }
        w.push("(");
        w.list(&model.columns, |w, column| match column.insert {
            Insert::Bind => {
                next_param += 1;
                let value = w.fragment(|w| {
                    w.placeholder(next_param);
                });
                insert_value_into(w, column, &value);
            }
            Insert::Now => {
                w.now();
            }
        });
        w.push(")");
    }
    conflict_clause(w, model, on_conflict, Sent::Params);
}

#[cfg(test)]
mod tests {
    use super::{Returned, insert_or_ignore, probe, upsert, upsert_returning};
    use crate::model::fixtures::{KEYS, plain, table};
    use crate::model::{ConflictTarget, Model, Table};
    use crate::postgres::Postgres;
    use crate::role::Role;
    use crate::role::Strategy;

    #[test]
    fn replace_every_non_key_column() {
        let model = plain(
            "strava_stats",
            [("stats_type", Role::Key), ("data", Role::Write)],
        );
        assert_eq!(
            upsert(&Postgres, &model),
            r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data" RETURNING (xmax = 0)"#
        );
        assert_eq!(
            insert_or_ignore(&Postgres, &model),
            r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO NOTHING RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn get_or_create_reads_a_converted_key_back_with_the_index_s_equality() {
        let model = plain("users", [("email", Role::Key), ("name", Role::Write)]);
        let returned = [Returned {
            name: "name",
            cast: None,
        }];
        let ci = model.clone().with_input("email", Some("ext.citext"), None);
        assert!(
            super::select_by_key(&Postgres, &ci, &returned)
                .ends_with(r#"WHERE "email" OPERATOR(ext.=) $1::ext.citext"#)
        );
        let on_path = model.clone().with_input("email", Some("citext"), None);
        assert!(
            super::select_by_key(&Postgres, &on_path, &returned)
                .ends_with(r#"WHERE "email" = $1::citext"#)
        );
        let collated = model.with_input("email", None, Some("ci"));
        assert!(
            super::select_by_key(&Postgres, &collated, &returned)
                .ends_with(r#"WHERE "email" = $1 COLLATE "ci""#)
        );
    }

    #[test]
    fn a_default_field_inserts_its_default_for_none_and_keeps_the_stored_value() {
        let mut model = plain(
            "mention",
            [
                ("id", Role::Key),
                ("read", Role::Defaulted),
                ("body", Role::Write),
            ],
        );
        model.columns[1].default = Some("false");
        model.columns[2].sent = true;
        assert_eq!(
            upsert(&Postgres, &model),
            r#"INSERT INTO "mention" ("id", "read", "body") VALUES ($1, COALESCE($2, false), $3) ON CONFLICT ("id") DO UPDATE SET "read" = CASE WHEN $2 IS NULL THEN "mention"."read" ELSE EXCLUDED."read" END, "body" = $3 RETURNING (xmax = 0)"#
        );
        model.columns[1].sent = true;
        assert!(
            upsert(&Postgres, &model).contains(r#"SET "read" = COALESCE($2, "mention"."read")"#)
        );
    }

    #[test]
    fn schema_composite_key_skip_and_timestamps() {
        let model = Model::new(
            Table {
                schema: Some("app"),
                name: "totals",
            },
            KEYS,
            [
                ("athlete", Role::Key),
                ("first_seen", Role::InsertOnly),
                ("day", Role::Key),
                ("cache", Role::Skip),
                ("created_at", Role::CreatedAt),
                ("updated_at", Role::UpdatedAt),
                ("km", Role::Write),
            ],
            None,
            false,
        );
        assert_eq!(
            upsert(&Postgres, &model),
            r#"INSERT INTO "app"."totals" ("athlete", "first_seen", "day", "created_at", "updated_at", "km") VALUES ($1, $2, $3, now(), now(), $4) ON CONFLICT ("athlete", "day") DO UPDATE SET "updated_at" = now(), "km" = EXCLUDED."km" RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn identifiers_are_quoted_with_embedded_quotes_doubled() {
        let model = Model::new(
            Table {
                schema: Some("my\"schema"),
                name: "order",
            },
            KEYS,
            [
                ("user", Role::Key),
                ("group", Role::Write),
                ("we\"ird", Role::Write),
            ],
            None,
            false,
        );
        assert_eq!(
            upsert(&Postgres, &model),
            r#"INSERT INTO "my""schema"."order" ("user", "group", "we""ird") VALUES ($1, $2, $3) ON CONFLICT ("user") DO UPDATE SET "group" = EXCLUDED."group", "we""ird" = EXCLUDED."we""ird" RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn nothing_to_update_means_do_nothing() {
        let model = plain(
            "tag_link",
            [
                ("post", Role::Key),
                ("tag", Role::Key),
                ("created_at", Role::CreatedAt),
            ],
        );
        assert_eq!(
            upsert(&Postgres, &model),
            r#"INSERT INTO "tag_link" ("post", "tag", "created_at") VALUES ($1, $2, now()) ON CONFLICT ("post", "tag") DO NOTHING RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn strategies_combine_stored_and_excluded() {
        let model = Model::new(
            Table {
                schema: Some("app"),
                name: "athlete",
            },
            KEYS,
            [
                ("id", Role::Key),
                ("rides", Role::Combine(Strategy::Add)),
                ("longest", Role::Combine(Strategy::Greatest)),
                ("first", Role::Combine(Strategy::Least)),
                ("city", Role::Combine(Strategy::Coalesce)),
                ("gear", Role::Combine(Strategy::Merge)),
            ],
            None,
            false,
        );
        assert_eq!(
            upsert(&Postgres, &model),
            concat!(
                r#"INSERT INTO "app"."athlete" ("id", "rides", "longest", "first", "city", "gear") VALUES ($1, $2, $3, $4, $5, $6) "#,
                r#"ON CONFLICT ("id") DO UPDATE SET "rides" = "athlete"."rides" + EXCLUDED."rides", "#,
                r#""longest" = GREATEST("athlete"."longest", EXCLUDED."longest"), "#,
                r#""first" = LEAST("athlete"."first", EXCLUDED."first"), "#,
                r#""city" = COALESCE(EXCLUDED."city", "athlete"."city"), "#,
                r#""gear" = COALESCE(pg_catalog.jsonb_concat("athlete"."gear", EXCLUDED."gear"), EXCLUDED."gear", "athlete"."gear") "#,
                r#"RETURNING (xmax = 0)"#
            )
        );
    }

    #[test]
    fn guards_are_anded_and_unchanged_is_told_apart() {
        let fields = [
            ("k", Role::Key),
            ("v", Role::Version),
            ("n", Role::Combine(Strategy::Add)),
            ("updated_at", Role::UpdatedAt),
        ];
        let model = Model::new(table("state"), KEYS, fields, Some("NOT state.frozen"), true);
        assert_eq!(
            upsert(&Postgres, &model),
            concat!(
                r#"WITH "__written" AS ("#,
                r#"INSERT INTO "state" ("k", "v", "n", "updated_at") VALUES ($1, $2, $3, now()) "#,
                r#"ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v", "n" = "state"."n" + EXCLUDED."n", "updated_at" = now() "#,
                r#"WHERE EXCLUDED."v" > "state"."v" AND (NOT state.frozen) "#,
                r#"AND ("state"."v", "state"."n") IS DISTINCT FROM (EXCLUDED."v", "state"."n" + EXCLUDED."n") "#,
                r#"RETURNING (xmax = 0) AS "inserted") SELECT "inserted" FROM "__written" "#,
                r#"UNION ALL SELECT NULL FROM (VALUES ($1, $2, $3)) AS "excluded"("k", "v", "n") "#,
                r#"WHERE NOT EXISTS (SELECT FROM "__written") AND EXISTS (SELECT FROM "state" "#,
                r#"WHERE ("state"."k") = (EXCLUDED."k") "#,
                r#"AND NOT ("state"."v", "state"."n") IS DISTINCT FROM (EXCLUDED."v", "state"."n" + EXCLUDED."n"))"#
            )
        );
        let plain = Model::new(table("state"), KEYS, fields, None, false);
        assert!(upsert(&Postgres, &plain).starts_with("INSERT INTO"));
        let unchanged_only = Model::new(
            table("state"),
            KEYS,
            [("k", Role::Key), ("n", Role::Write)],
            None,
            true,
        );
        assert_eq!(
            upsert(&Postgres, &unchanged_only),
            r#"INSERT INTO "state" ("k", "n") VALUES ($1, $2) ON CONFLICT ("k") DO UPDATE SET "n" = EXCLUDED."n" WHERE ("state"."n") IS DISTINCT FROM (EXCLUDED."n") RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn conflict_targets_and_returning() {
        let fields = [("email", Role::Key), ("name", Role::Write)];
        let partial = Model::new(
            table("users"),
            ConflictTarget::Keys {
                predicate: Some("NOT deleted"),
            },
            fields,
            None,
            false,
        );
        assert_eq!(
            insert_or_ignore(&Postgres, &partial),
            r#"INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") WHERE (NOT deleted) DO NOTHING RETURNING (xmax = 0)"#
        );
        let constraint = Model::new(
            table("users"),
            ConflictTarget::Constraint("users_email_key"),
            fields,
            None,
            false,
        );
        assert_eq!(
            upsert_returning(
                &Postgres,
                &constraint,
                &["id", "email", "name"].map(|name| Returned { name, cast: None })
            ),
            r#"INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ON CONSTRAINT "users_email_key" DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id", "email", "name""#
        );
    }

    #[test]
    fn sqlite_statements_spell_what_sqlite_lacks() {
        use crate::dialect::Dialect as _;
        use crate::sqlite::Sqlite;
        let model = Model::new(
            table("scores"),
            KEYS,
            [
                ("player", Role::Key),
                ("high", Role::Combine(Strategy::Greatest)),
                ("low", Role::Combine(Strategy::Least)),
                ("meta", Role::Combine(Strategy::Merge)),
                ("updated_at", Role::UpdatedAt),
            ],
            None,
            true,
        );
        assert_eq!(Sqlite.unsupported(&model), None);
        let sql = upsert(&Sqlite, &model);
        assert!(sql.starts_with(concat!(
            r#"INSERT INTO "scores" ("player", "high", "low", "meta", "updated_at") "#,
            r#"VALUES (?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now')) ON CONFLICT ("player") DO UPDATE SET "#,
            r#""high" = coalesce(max("scores"."high", EXCLUDED."high"), "scores"."high", EXCLUDED."high"), "#,
            r#""low" = coalesce(min("scores"."low", EXCLUDED."low"), "scores"."low", EXCLUDED."low"), "#,
            r#""meta" = CASE WHEN "scores"."meta" IS NULL THEN EXCLUDED."meta" "#
        )), "{sql}");
        // skip_unchanged compares with IS NOT, and a written row returns 1.
        assert!(
            sql.contains(r#" WHERE ("scores"."high" IS NOT coalesce(max("#),
            "{sql}"
        );
        assert!(sql.ends_with(" RETURNING 1"), "{sql}");
        assert_eq!(
            insert_or_ignore(&Sqlite, &model),
            concat!(
                r#"INSERT INTO "scores" ("player", "high", "low", "meta", "updated_at") "#,
                r#"VALUES (?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now')) ON CONFLICT ("player") DO NOTHING RETURNING 1"#
            )
        );
        assert_eq!(
            probe(&Sqlite, &model),
            r#"SELECT 1 FROM "scores" WHERE "player" = ?"#
        );
    }

    #[test]
    fn sqlite_rejects_what_it_cannot_express() {
        use crate::dialect::Dialect as _;
        use crate::sqlite::Sqlite;
        let constraint = Model::new(
            table("t"),
            ConflictTarget::Constraint("t_pkey"),
            [("k", Role::Key), ("v", Role::Write)],
            None,
            false,
        );
        assert_eq!(
            Sqlite.unsupported(&constraint),
            Some("SqliteHasNoConstraintTargets")
        );
        let told = Model::new(
            table("t"),
            KEYS,
            [
                ("k", Role::Key),
                ("v", Role::Write),
                ("version", Role::Version),
            ],
            None,
            true,
        );
        assert_eq!(
            Sqlite.unsupported(&told),
            Some("SqliteCannotTellSkippedFromUnchanged")
        );
        let nnd = Model::new(
            table("t"),
            KEYS,
            [("k", Role::Key), ("v", Role::Write)],
            None,
            false,
        )
        .with_null_keys(crate::model::NullKeys::NotDistinct);
        assert_eq!(
            Sqlite.unsupported(&nnd),
            Some("SqliteHasNoNullsNotDistinct")
        );
    }
}
