//! SQLite: its [`Dialect`] ([`Sqlite`]), what it cannot express ([`Gap`]), its batch
//! statements ([`bulk`]: chunks of multi-row upserts) and its type rules ([`types`]:
//! column affinities). The single-row statements are the shared builders of
//! [`crate::single`] written through [`Sqlite`], plus `update_stored` and `probe`.

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::model::Model;
use crate::postgres::Postgres;

pub mod bulk;
mod gap;
pub mod types;

pub use gap::Gap;

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
        Gap::of(model).map(Gap::marker)
    }
}
