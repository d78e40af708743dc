//! The dialects: how a backend spells identifiers, parameters and the few expressions that
//! differ between backends. Statement builders write through [`Dialect`], so a second backend
//! adds one type here (and its builders where the statements themselves differ), not a
//! rewrite.

use crate::model::Table;

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
    /// false for a row it updated.
    fn inserted_flag(&self) -> &'static str;

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
