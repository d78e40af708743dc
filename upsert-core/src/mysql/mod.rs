//! MySQL 8 and MariaDB 10.5+: its [`Dialect`] ([`MySql`]), what it cannot express
//! ([`Gap`]) and its statements ([`statements`]: `INSERT .. ON DUPLICATE KEY UPDATE`, the
//! outcome marks, chunks of rows applied in order), and the column a field type goes to
//! ([`column_for`]). The shared builders of
//! [`crate::single`] write PostgreSQL's and SQLite's `ON CONFLICT`, which MySQL has not:
//! every MySQL statement is built here.

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::model::Model;

mod gap;
pub mod statements;
mod types;

pub use gap::Gap;
pub use types::column_for;

/// MySQL 8 / MariaDB: `` `ident` `` quoting, anonymous `?` parameters, `CURRENT_TIMESTAMP(6)`.
/// There is no conflict target and no `xmax`: `ON DUPLICATE KEY UPDATE` fires on any
/// unique index, and the statement tells an insert from an update by the value it leaves
/// in `LAST_INSERT_ID` ([`statements`]). `GREATEST`/`LEAST` return NULL when an argument is
/// NULL, so `greatest` and `least` are written to mean what they mean on PostgreSQL.
///
/// ```
/// use upsert_core::{Dialect, MySql};
/// assert_eq!(MySql.quote_ident("we`ird"), "`we``ird`");
/// let mut sql = String::new();
/// MySql.placeholder_into(&mut sql, 2);
/// assert_eq!(sql, "?");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MySql;

impl Dialect for MySql {
    fn quote_ident_into(&self, out: &mut String, ident: &str) {
        out.push('`');
        for c in ident.chars() {
            if c == '`' {
                out.push('`');
            }
            out.push(c);
        }
        out.push('`');
    }

    fn placeholder_into(&self, out: &mut String, _: usize) {
        out.push('?');
    }

    /// Microseconds, as a `DATETIME(6)` or `TIMESTAMP(6)` column keeps them.
    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP(6)"
    }

    /// Unused: MySQL has no `RETURNING` that tells an insert (see [`statements`]).
    fn inserted_flag(&self) -> &'static str {
        "1"
    }

    fn greatest_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "COALESCE(GREATEST({a}, {b}), {a}, {b})");
    }

    fn least_into(&self, out: &mut String, a: &str, b: &str) {
        let _ = write!(out, "COALESCE(LEAST({a}, {b}), {a}, {b})");
    }

    /// `<=>` is MySQL's NULL-safe equality, and it compares rows.
    fn distinct_into(&self, out: &mut String, left: &[String], right: &[String]) {
        let _ = write!(
            out,
            "NOT (({}) <=> ({}))",
            left.join(", "),
            right.join(", ")
        );
    }

    fn unsupported(&self, model: &Model) -> Option<&'static str> {
        Gap::of(model).map(Gap::marker)
    }
}
