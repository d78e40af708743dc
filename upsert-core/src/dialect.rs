//! The dialects: how a backend spells identifiers, parameters and the few expressions that
//! differ between backends. Statement builders write through [`Dialect`], so a second backend
//! adds one type here (and its builders where the statements themselves differ), not a
//! rewrite.

use std::fmt::Write as _;

use crate::model::{ConflictTarget, Model, NullKeys, Table, Unwritten};

/// A SQL backend's spelling of identifiers, parameters and server-side expressions.
///
/// ```
/// use upsert_core::{Dialect, Postgres};
///
/// assert_eq!(Postgres.quote_ident(r#"we"ird"#), r#""we""ird""#);
/// let mut sql = String::new();
/// Postgres.placeholder_into(&mut sql, 3);
/// assert_eq!(sql, "$3");
/// ```
pub trait Dialect {
    /// Writes `ident` as a quoted identifier, so that reserved words (`user`, `order`) and
    /// any character work.
    fn quote_ident_into(&self, out: &mut String, ident: &str);

    /// Writes the `n`th (1-based) bound parameter.
    fn placeholder_into(&self, out: &mut String, n: usize);

    /// The server's current time, for `created_at`/`updated_at` columns.
    fn now(&self) -> &'static str;

    /// In `RETURNING`, an expression that is true for a row the statement inserted and
    /// false for a row it updated; for a backend that cannot tell them apart in the
    /// statement (SQLite), any value: a returned row means "written".
    fn inserted_flag(&self) -> &'static str;

    /// `GREATEST(a, b)` where a NULL side never wins (PostgreSQL's `GREATEST` ignores
    /// NULLs).
    fn greatest_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "GREATEST({a}, {b})");
    }

    /// `LEAST(a, b)` where a NULL side never wins.
    fn least_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "LEAST({a}, {b})");
    }

    /// The shallow merge of two JSON objects, `incoming`'s keys winning; a NULL side keeps
    /// the other.
    fn merge_into(&self, out: &mut String, stored: &str, incoming: &str) {
        // jsonb `||` (the function behind the operator, which takes nothing but jsonb: on a
        // `text` or `json` column the statement fails at planning, before writing, where
        // `||` would concatenate two documents into one invalid text). It yields NULL when
        // either side is NULL: keep the other side then.
        let _ = write!(
            out,
            "COALESCE(pg_catalog.jsonb_concat({stored}, {incoming}), {incoming}, {stored})"
        );
    }

    /// Whether two rows of values differ, NULL equal to NULL.
    fn distinct_into(&self, out: &mut String, left: &[String], right: &[String]) {
        let _ = write!(
            out,
            "({}) IS DISTINCT FROM ({})",
            left.join(", "),
            right.join(", ")
        );
    }

    /// Why this backend cannot take `model`'s statements, if it cannot: an attribute it has
    /// no syntax for. `None` for PostgreSQL.
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, Dialect, Model, Role, Sqlite, Table};
    /// let model = Model::new(
    ///     Table { schema: Some("app"), name: "t" },
    ///     ConflictTarget::Keys { predicate: None },
    ///     [("k", Role::Key), ("v", Role::Write)],
    ///     None,
    ///     false,
    /// );
    /// assert!(Sqlite.unsupported(&model).unwrap().contains("schema"));
    /// ```
    fn unsupported(&self, model: &Model) -> Option<&'static str> {
        let _ = model;
        None
    }

    /// `ident` quoted, as a new string.
    fn quote_ident(&self, ident: &str) -> String {
        let mut out = String::with_capacity(ident.len() + 2);
        self.quote_ident_into(&mut out, ident);
        out
    }

    /// `"schema"."table"`, or `"table"` when the schema is left to the search path.
    ///
    /// ```
    /// use upsert_core::{Dialect, Postgres, Table};
    /// assert_eq!(Postgres.quote_table(&Table { schema: Some("app"), name: "t" }), r#""app"."t""#);
    /// ```
    fn quote_table(&self, table: &Table) -> String {
        let mut out = String::new();
        if let Some(schema) = table.schema {
            self.quote_ident_into(&mut out, schema);
            out.push('.');
        }
        self.quote_ident_into(&mut out, table.name);
        out
    }
}

/// PostgreSQL 9.5+: `"ident"` with embedded quotes doubled, `$n` parameters, and
/// `(xmax = 0)` for a freshly inserted row version (an update stamps the updating
/// transaction's id in `xmax`).
///
/// ```
/// use upsert_core::{Dialect, Postgres};
///
/// assert_eq!(Postgres.quote_ident("order"), r#""order""#);
/// assert_eq!(Postgres.inserted_flag(), "(xmax = 0)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Postgres;

impl Dialect for Postgres {
    fn quote_ident_into(&self, out: &mut String, ident: &str) {
        out.push('"');
        for c in ident.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    }

    fn placeholder_into(&self, out: &mut String, n: usize) {
        out.push('$');
        out.push_str(&n.to_string());
    }

    fn now(&self) -> &'static str {
        "now()"
    }

    fn inserted_flag(&self) -> &'static str {
        "(xmax = 0)"
    }
}

/// SQLite 3.35+ (`RETURNING`): `"ident"` quoting, anonymous `?` parameters, and no `xmax`,
/// so the runtime learns an outcome from an update tried first ([`crate::single::update_stored`])
/// or a probe ([`crate::single::probe`]). SQLite's
/// `max()`/`min()` return NULL when an argument is NULL and its `json_patch` merges deeply
/// and deletes keys set to null, so `greatest`, `least` and `merge` are written to mean what
/// they mean on PostgreSQL.
///
/// ```
/// use upsert_core::{Dialect, Sqlite};
/// let mut sql = String::new();
/// Sqlite.placeholder_into(&mut sql, 2);
/// assert_eq!(sql, "?");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sqlite;

impl Dialect for Sqlite {
    fn quote_ident_into(&self, out: &mut String, ident: &str) {
        Postgres.quote_ident_into(out, ident);
    }

    /// `?`, anonymous: every SQLite statement here takes each parameter once, in order.
    /// Numbered `?NNN` parameters cost sqlx a lookup of the parameter's name on every bind
    /// (measured: a 128-row chunk upsert took 1.9x as long with `?1 .. ?384`).
    fn placeholder_into(&self, out: &mut String, _: usize) {
        out.push('?');
    }

    /// UTC with milliseconds, in the text form sqlx reads back into `chrono`/`time` types.
    fn now(&self) -> &'static str {
        "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    }

    fn inserted_flag(&self) -> &'static str {
        "1"
    }

    fn greatest_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "coalesce(max({a}, {b}), {a}, {b})");
    }

    fn least_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "coalesce(min({a}, {b}), {a}, {b})");
    }

    fn merge_into(&self, out: &mut String, stored: &str, incoming: &str) {
        // Every key of `stored` not in `incoming`, then every key of `incoming`; values
        // re-read as JSON so that objects, arrays, booleans and null stay JSON.
        let value = "CASE \"type\" WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') \
                     WHEN 'null' THEN json('null') WHEN 'object' THEN json(\"value\") \
                     WHEN 'array' THEN json(\"value\") ELSE \"value\" END";
        let _ = write!(
            out,
            "CASE WHEN {stored} IS NULL THEN {incoming} WHEN {incoming} IS NULL THEN {stored} \
             ELSE (SELECT json_group_object(\"key\", {value}) FROM (\
             SELECT \"key\", \"value\", \"type\" FROM json_each({stored}) WHERE \"key\" NOT IN \
             (SELECT \"key\" FROM json_each({incoming})) \
             UNION ALL SELECT \"key\", \"value\", \"type\" FROM json_each({incoming}))) END"
        );
    }

    fn distinct_into(&self, out: &mut String, left: &[String], right: &[String]) {
        out.push('(');
        for (i, (l, r)) in left.iter().zip(right).enumerate() {
            if i > 0 {
                out.push_str(" OR ");
            }
            let _ = write!(out, "{l} IS NOT {r}");
        }
        out.push(')');
    }

    fn unsupported(&self, model: &Model) -> Option<&'static str> {
        SqliteGap::of(model).map(SqliteGap::message)
    }
}

/// What SQLite has no syntax or storage for, and which attribute asks for it. The derive
/// emits no SQLite statements for such a model; its SQLite impl instead requires the
/// runtime's marker trait named by [`SqliteGap::marker`], which is never implemented, so a
/// call on SQLite fails to compile with that trait's message, at the attribute.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, SqliteGap, Table};
/// let model = Model::new(
///     Table { schema: Some("app"), name: "t" },
///     ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(SqliteGap::of(&model), Some(SqliteGap::Schema));
/// assert_eq!(SqliteGap::Schema.marker(), "SqliteHasNoSchemas");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteGap {
    /// `#[upsert(schema)]`.
    Schema,
    /// `#[upsert(constraint)]`.
    Constraint,
    /// `#[upsert(nulls_not_distinct)]`.
    NullsNotDistinct,
    /// `#[upsert(sql_type)]`.
    SqlType,
    /// An array (`Vec<T>`) field.
    Array,
    /// `version` (or `update_where`) together with `skip_unchanged`.
    GuardWithSkipUnchanged,
    /// `#[upsert(default = "..")]` or `#[upsert(update_from = "sent")]`: an update that
    /// reads the value sent, which SQLite's multi-row statements cannot reach.
    SentValue,
}

impl SqliteGap {
    /// The first gap of `model`, if any.
    #[must_use]
    pub fn of(model: &Model) -> Option<Self> {
        if model.table.schema.is_some() {
            Some(Self::Schema)
        } else if let ConflictTarget::Constraint(_) = model.target {
            Some(Self::Constraint)
        } else if model.null_keys == NullKeys::NotDistinct {
            Some(Self::NullsNotDistinct)
        } else if model.columns.iter().any(|c| c.cast.is_some()) {
            Some(Self::SqlType)
        } else if model.columns.iter().any(|c| c.array) {
            Some(Self::Array)
        } else if model.unwritten() == Unwritten::Told {
            Some(Self::GuardWithSkipUnchanged)
        } else if model.reads_sent() || model.columns.iter().any(|c| c.default.is_some()) {
            Some(Self::SentValue)
        } else {
            None
        }
    }

    /// What SQLite lacks, and what to do.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::Schema => {
                "SQLite has no schemas: drop `#[upsert(schema)]` (an attached database is a file, not a schema)"
            }
            Self::Constraint => {
                "SQLite has no `ON CONFLICT ON CONSTRAINT`: name the key columns with `#[conflict_key]` instead of `#[upsert(constraint)]`"
            }
            Self::NullsNotDistinct => {
                "SQLite unique indexes treat NULLs as distinct: drop `#[upsert(nulls_not_distinct)]`"
            }
            Self::SqlType => {
                "SQLite has no `::` casts: drop `#[upsert(sql_type)]` (SQLite stores each value as sqlx sends it)"
            }
            Self::Array => {
                "SQLite has no array columns: store the `Vec` as JSON (`sqlx::types::Json<Vec<T>>`)"
            }
            Self::GuardWithSkipUnchanged => {
                "SQLite cannot tell a skipped row from an unchanged one in one statement: use `version` or `skip_unchanged`, not both"
            }
            Self::SentValue => {
                "SQLite's statements cannot read the value sent in an update: drop `#[upsert(default)]` and `#[upsert(update_from = \"sent\")]` (SQLite's triggers cannot rewrite a row, so `excluded` is always the value sent)"
            }
        }
    }

    /// The runtime's marker trait (in `__private`) whose diagnostic says [`message`](Self::message).
    #[must_use]
    pub fn marker(self) -> &'static str {
        match self {
            Self::Schema => "SqliteHasNoSchemas",
            Self::Constraint => "SqliteHasNoConstraintTargets",
            Self::NullsNotDistinct => "SqliteHasNoNullsNotDistinct",
            Self::SqlType => "SqliteHasNoCasts",
            Self::Array => "SqliteHasNoArrays",
            Self::GuardWithSkipUnchanged => "SqliteCannotTellSkippedFromUnchanged",
            Self::SentValue => "SqliteCannotReadTheSentValue",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dialect, Postgres};

    #[test]
    fn postgres_quotes_and_numbers() {
        assert_eq!(Postgres.quote_ident(""), r#""""#);
        assert_eq!(Postgres.quote_ident(r#"a"b""c"#), r#""a""b""""c""#);
        assert_eq!(Postgres.quote_ident("ünï"), r#""ünï""#);
        let mut out = String::new();
        Postgres.placeholder_into(&mut out, 1);
        Postgres.placeholder_into(&mut out, 65_535);
        assert_eq!(out, "$1$65535");
    }
}
