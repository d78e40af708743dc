//! The DDL a fix suggests (`CREATE UNIQUE INDEX`, `ALTER COLUMN`), and a column
//! default compared with the one the struct declares.

use crate::dialect::Dialect;
use crate::model::Table;

use super::names::{MAX_IDENTIFIER_BYTES, truncate_to};

/// `CREATE UNIQUE INDEX` for `columns` of `table` (with `predicate` for a partial index),
/// named `<table>_<columns>_key`, the first part cut so that the whole fits PostgreSQL's 63
/// bytes and keeps its `_key` suffix (as PostgreSQL names indexes): it runs for any length,
/// and never takes the name of a 63-byte table.
///
/// ```
/// use upsert_core::{Postgres, Table, verify::create_unique_index};
/// let table = Table { schema: None, name: "strava_stats" };
/// assert_eq!(
///     create_unique_index(&Postgres, &table, &["stats_type"], None),
///     r#"CREATE UNIQUE INDEX "strava_stats_stats_type_key" ON "strava_stats" ("stats_type");"#
/// );
/// let long = "t".repeat(63);
/// let fix = create_unique_index(&Postgres, &Table { schema: None, name: &long }, &["id"], None);
/// assert!(fix.starts_with(&format!("CREATE UNIQUE INDEX \"{}_key\" ON", "t".repeat(59))));
/// ```
#[must_use]
pub fn create_unique_index(
    dialect: &dyn Dialect,
    table: &Table,
    columns: &[&str],
    predicate: Option<&str>,
) -> String {
    let stem = format!("{}_{}", table.name, columns.join("_"));
    let name = format!(
        "{}_key",
        truncate_to(&stem, MAX_IDENTIFIER_BYTES - "_key".len())
    );
    let qualified = dialect.quote_table(table);
    let columns: Vec<String> = columns.iter().map(|c| dialect.quote_ident(c)).collect();
    let predicate = predicate.map_or_else(String::new, |p| format!(" WHERE ({p})"));
    format!(
        "CREATE UNIQUE INDEX {} ON {qualified} ({}){predicate};",
        dialect.quote_ident(&name),
        columns.join(", ")
    )
}

/// `ALTER TABLE <table> ALTER COLUMN "<column>" <rest>;` (`table` already quoted).
pub(super) fn alter_column(dialect: &dyn Dialect, table: &str, column: &str, rest: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} {rest};",
        dialect.quote_ident(column)
    )
}

/// Whether a `default = ".."` expression is the column's default as PostgreSQL prints it:
/// compared without whitespace, casts (`'new'::text`), letter case outside string literals,
/// enclosing parentheses and quotes around a literal (`'-1'::integer` is `-1`), and with
/// `CURRENT_TIMESTAMP` and `now()` the same. A check that cries wolf is turned off, so text
/// the rule cannot tell apart counts as the same.
///
/// ```
/// use upsert_core::verify::same_default;
/// assert!(same_default("false", "false"));
/// assert!(same_default("'new'", "'new'::text"));
/// assert!(same_default("now()", "CURRENT_TIMESTAMP"));
/// assert!(same_default("-1", "'-1'::integer"));
/// assert!(same_default("'{}'", "'{}'::jsonb"));
/// assert!(!same_default("true", "false"));
/// assert!(!same_default("'New'", "'new'::character varying"));
/// ```
#[must_use]
pub fn same_default(declared: &str, catalog: &str) -> bool {
    let (a, b) = (default_text(declared), default_text(catalog));
    a == b || a.replace('\'', "") == b.replace('\'', "")
}

/// [`same_default`]'s form of an expression.
pub(super) fn default_text(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal, verbatim ('' inside it included).
                out.push(c);
                while let Some(q) = chars.next() {
                    out.push(q);
                    if q == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.extend(chars.next());
                        } else {
                            break;
                        }
                    }
                }
            }
            ':' if chars.peek() == Some(&':') => {
                // A cast: its type name (`character varying(255)[]`) dropped.
                chars.next();
                while let Some(&t) = chars.peek() {
                    if t.is_alphanumeric() || matches!(t, '_' | ' ' | '.' | '"' | '[' | ']') {
                        chars.next();
                    } else if t == '(' {
                        for t in chars.by_ref() {
                            if t == ')' {
                                break;
                            }
                        }
                    } else {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    let mut text = out.as_str();
    while text.starts_with('(') && text.ends_with(')') && balanced(&text[1..text.len() - 1]) {
        text = &text[1..text.len() - 1];
    }
    match text {
        "current_timestamp" | "transaction_timestamp()" => "now()".to_owned(),
        other => other.to_owned(),
    }
}

/// Whether every `(` in `text` closes in it, in order.
pub(super) fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}
