//! The dialect trait: how a backend spells identifiers, parameters and the few expressions
//! that differ between backends. Statement builders write through [`Dialect`]; each backend
//! implements it in its own module ([`crate::postgres`], [`crate::sqlite`]), beside the
//! builders of the statements only it has.

use std::fmt::Write as _;

use crate::model::{Model, Table};

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

    /// Whether this backend cannot take `model`'s statements (an attribute it has no syntax
    /// for), named by the runtime's marker trait whose diagnostic says why and what to do
    /// (the text lives there, once). `None` for PostgreSQL.
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
    /// assert_eq!(Sqlite.unsupported(&model), Some("SqliteHasNoSchemas"));
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
