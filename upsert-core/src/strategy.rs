//! Conflict strategies' SQL: how a column combines its stored value with the incoming one
//! ([`Strategy`], declared with the model). Each strategy's SQL is written here and nowhere else: the single-row `DO UPDATE SET`
//! expression, the batch fold (the value that applying a key's rows one by one would
//! leave) and the compile-time rule on the field's type.
//!
//! Adding a strategy: a variant of [`Strategy`], its three SQL pieces here and its tests, and its
//! attribute key in the derive's grammar (`symbol.rs`, `attr.rs`).

use std::fmt::Write as _;

use crate::names;
use crate::role::Strategy;
use crate::sql_buf::SqlBuf;

/// What a batch fold sees besides its column: the key's window and the version guard.
pub(crate) struct Fold<'s> {
    /// `PARTITION BY "k1", ..`
    pub partition: &'s str,
    /// The quoted ordinal column.
    pub ord: &'s str,
    /// Under a version guard, the quoted flag of the rows that apply.
    pub applies: Option<&'s str>,
}

impl Strategy {
    /// Whether it is a counter (`#[upsert(add)]`, with any NULL rule).
    #[must_use]
    pub fn is_add(self) -> bool {
        matches!(
            self,
            Strategy::Add | Strategy::AddNullPropagates | Strategy::AddNullAsZero
        )
    }

    /// The name of the `__private` function whose bound checks the field's type at compile
    /// time, if the strategy restricts it.
    #[must_use]
    pub fn type_check(self) -> Option<&'static str> {
        match self {
            Strategy::Add | Strategy::AddNullPropagates | Strategy::AddNullAsZero => {
                Some("assert_numeric")
            }
            Strategy::Coalesce => Some("assert_nullable"),
            Strategy::Merge => Some("assert_jsonb"),
            Strategy::Greatest | Strategy::Least => None,
        }
    }

    /// The `DO UPDATE SET` value from the `stored` and `excluded` column references.
    pub(crate) fn set_into(self, w: &mut SqlBuf, stored: &str, excluded: &str) {
        let mut out = String::new();
        let dialect = w.dialect();
        match self {
            Strategy::Add | Strategy::AddNullPropagates => {
                let _ = write!(out, "{stored} + {excluded}");
            }
            Strategy::AddNullAsZero => {
                let _ = write!(out, "COALESCE({stored}, 0) + COALESCE({excluded}, 0)");
            }
            Strategy::Greatest => dialect.greatest_into(&mut out, stored, excluded),
            Strategy::Least => dialect.least_into(&mut out, stored, excluded),
            Strategy::Coalesce => {
                let _ = write!(out, "COALESCE({excluded}, {stored})");
            }
            Strategy::Merge => dialect.merge_into(&mut out, stored, excluded),
        }
        w.push(&out);
    }

    /// The batch fold of column `name` (quoted) over its key's rows, as a window
    /// expression: only the rows that apply take part.
    pub(crate) fn fold_into(self, w: &mut SqlBuf, name: &str, fold: &Fold) {
        let Fold {
            partition,
            ord,
            applies,
        } = fold;
        let filter = applies.map_or_else(String::new, |a| format!(" FILTER (WHERE {a})"));
        let _ = match self {
            Strategy::Add => write!(w, "sum({name}){filter} OVER ({partition}) AS {name}"),
            // One by one, a new key's first row is inserted as sent (NULL stays NULL) and
            // each later row adds `COALESCE(.., 0)`: `sum` skips NULLs the same way, and
            // from the second row on, all NULLs make 0.
            Strategy::AddNullAsZero => write!(
                w,
                "CASE WHEN count(*){filter} OVER ({partition}) > 1 \
                 THEN COALESCE(sum({name}){filter} OVER ({partition}), 0) \
                 ELSE sum({name}){filter} OVER ({partition}) END AS {name}"
            ),
            // One NULL among the key's rows makes the sum NULL, as `+` does one by one.
            Strategy::AddNullPropagates => write!(
                w,
                "CASE WHEN count(*){filter} OVER ({partition}) = count({name}){filter} OVER ({partition}) \
                 THEN sum({name}){filter} OVER ({partition}) END AS {name}"
            ),
            // The first value in the strategy's order rather than `max`/`min`, which
            // `bool` and `uuid` lack: any type with a sort order folds as `GREATEST` and
            // `LEAST` compare it; NULLs last, as both ignore them; applying rows first.
            Strategy::Greatest | Strategy::Least => write!(
                w,
                "first_value({name}) OVER ({partition} ORDER BY {}{name} {} NULLS LAST) AS {name}",
                applies.map_or_else(String::new, |a| format!("{a} DESC, ")),
                if self == Strategy::Greatest {
                    "DESC"
                } else {
                    "ASC"
                }
            ),
            // The last non-NULL value (among the applying rows).
            Strategy::Coalesce => write!(
                w,
                "first_value({name}) OVER ({partition} ORDER BY {}{name} IS NULL, {ord} DESC) AS {name}",
                applies.map_or_else(String::new, |a| format!("NOT {a}, "))
            ),
            // Every non-NULL object in order; `finish_fold_into` merges them.
            Strategy::Merge => write!(
                w,
                "jsonb_agg({name}) FILTER (WHERE {name} IS NOT NULL{}) OVER ({partition} ORDER BY {ord} \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS {name}",
                applies.map_or_else(String::new, |a| format!(" AND {a}"))
            ),
        };
    }

    /// The value inserted from the folded column `name` (quoted).
    pub(crate) fn finish_fold_into(self, w: &mut SqlBuf, name: &str) {
        match self {
            Strategy::Merge => {
                // `a || b || c` of the key's objects: later keys win, as `||` would.
                let array = w.dialect().quote_ident(names::MERGE_ARRAY);
                let entry = w.dialect().quote_ident(names::MERGE_ENTRY);
                let object = w.dialect().quote_ident(names::MERGE_OBJECT);
                let index = w.dialect().quote_ident(names::MERGE_INDEX);
                let _ = write!(
                    w,
                    "CASE WHEN jsonb_array_length({name}) = 1 THEN {name} -> 0 WHEN {name} IS NOT NULL \
                     THEN coalesce((SELECT jsonb_object_agg({entry}.\"key\", {entry}.\"value\" ORDER BY {array}.{index}) \
                     FROM jsonb_array_elements({name}) WITH ORDINALITY AS {array}({object}, {index}), \
                     jsonb_each({array}.{object}) AS {entry}), '{{}}') END"
                );
            }
            Strategy::Add
            | Strategy::AddNullPropagates
            | Strategy::AddNullAsZero
            | Strategy::Greatest
            | Strategy::Least
            | Strategy::Coalesce => {
                w.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Fold, Strategy};
    use crate::postgres::Postgres;
    use crate::sql_buf::SqlBuf;

    fn set(strategy: Strategy) -> String {
        let mut w = SqlBuf::new(&Postgres);
        strategy.set_into(&mut w, "s", "e");
        w.finish()
    }

    fn fold(strategy: Strategy, applies: Option<&str>) -> String {
        let mut w = SqlBuf::new(&Postgres);
        let fold = Fold {
            partition: "PARTITION BY k",
            ord: "o",
            applies,
        };
        strategy.fold_into(&mut w, "c", &fold);
        w.finish()
    }

    #[test]
    fn set_expressions() {
        assert_eq!(set(Strategy::Add), "s + e");
        assert_eq!(set(Strategy::AddNullPropagates), "s + e");
        assert_eq!(
            set(Strategy::AddNullAsZero),
            "COALESCE(s, 0) + COALESCE(e, 0)"
        );
        assert_eq!(set(Strategy::Greatest), "GREATEST(s, e)");
        assert_eq!(set(Strategy::Least), "LEAST(s, e)");
        assert_eq!(set(Strategy::Coalesce), "COALESCE(e, s)");
        assert_eq!(
            set(Strategy::Merge),
            "COALESCE(pg_catalog.jsonb_concat(s, e), e, s)"
        );
    }

    #[test]
    fn folds_with_and_without_a_version_guard() {
        assert_eq!(
            fold(Strategy::Add, None),
            "sum(c) OVER (PARTITION BY k) AS c"
        );
        assert_eq!(
            fold(Strategy::Least, Some("a")),
            "first_value(c) OVER (PARTITION BY k ORDER BY a DESC, c ASC NULLS LAST) AS c"
        );
        assert_eq!(
            fold(Strategy::Greatest, None),
            "first_value(c) OVER (PARTITION BY k ORDER BY c DESC NULLS LAST) AS c"
        );
        assert_eq!(
            fold(Strategy::Coalesce, Some("a")),
            "first_value(c) OVER (PARTITION BY k ORDER BY NOT a, c IS NULL, o DESC) AS c"
        );
        assert_eq!(
            fold(Strategy::Merge, None),
            "jsonb_agg(c) FILTER (WHERE c IS NOT NULL) OVER (PARTITION BY k ORDER BY o \
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS c"
        );
        let mut w = SqlBuf::new(&Postgres);
        Strategy::Greatest.finish_fold_into(&mut w, "c");
        assert_eq!(w.finish(), "c");
    }
}
