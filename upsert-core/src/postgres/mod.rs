//! PostgreSQL: its [`Dialect`] ([`Postgres`]) and its bulk statements ([`bulk`]: `UNNEST`
//! arrays or a staging table, rounds of distinct keys, the counts layout). The single-row
//! statements are the shared builders of [`crate::single`] written through [`Postgres`].

use crate::dialect::Dialect;

pub mod bulk;
pub mod counts;
pub mod plan;
pub mod stage;

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
    use super::Postgres;
    use crate::dialect::Dialect;

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
