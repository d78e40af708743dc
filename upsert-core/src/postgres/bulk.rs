//! PostgreSQL's bulk statements: `upsert_many` on its two paths (`UNNEST` arrays, or a staging table
//! loaded by binary `COPY`), the staging table's DDL, and the layout of the one row of
//! counts every bulk statement returns ([`Counts`]).

use std::fmt::Write as _;

use crate::clause::{
    OnConflict, Sent, conflict_clause, insert_into, insert_value_into, inserted_flag_into, sent_cte,
};
use crate::dialect::Dialect;
use crate::model::{Column, ConflictTarget, Model, NullKeys};
use crate::role::Strategy;
use crate::role::{Insert, Update};

use super::counts::Counts;
use crate::names;
use crate::sql_buf::SqlBuf;
use crate::strategy::Fold;

/// Where a bulk statement reads its rows from.
///
/// ```
/// use upsert_core::postgres::bulk::Source;
/// assert_ne!(Source::Unnest, Source::Stage);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// One array parameter per bound column, `UNNEST($1, $2, ..) WITH ORDINALITY`.
    Unnest,
    /// The temporary table loaded by `COPY` ([`names::STAGE_TABLE`]), with the ordinal
    /// column.
    Stage,
}

/// The bulk upsert. It folds each key's rows into one, as applying them one by one in
/// order would: the last row's values, the first row's `insert_only` values, and each
/// strategy's fold (the sum of `add` columns, ..); under a `version` guard, only the rows
/// that would have applied (a version above every earlier one and above the stored one)
/// take part and the row with the highest version wins. It writes in key order, so that
/// concurrent batches lock rows in the same order, and returns one row laid out as
/// [`Counts`] says.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::bulk;
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// let sql = bulk::upsert_many(&Postgres, &model, bulk::Source::Unnest);
/// assert!(sql.contains(r#"UNNEST($1, $2) WITH ORDINALITY"#));
/// assert!(sql.contains(r#"ORDER BY "name" ON CONFLICT ("name")"#));
/// ```
#[must_use]
pub fn upsert_many(dialect: &dyn Dialect, model: &Model, source: Source) -> String {
    let bulk = Bulk::new(dialect, model);
    let mut w = SqlBuf::new(dialect);
    bulk.write(&mut w, source);
    bulk.counts(&mut w, &bulk.dedup);
    w.finish()
}

/// [`upsert_many`] for a batch the client has checked and sorted: its keys are distinct,
/// and it comes in the batch's lock order (the order [`upsert_many`] writes in: a string
/// key by its bytes). No fold and no sort: the rows are written as they come, in one pass,
/// and the counts are laid out as [`Counts`] says. `None` when the model cannot go
/// presorted ([`Model::presorted`]).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::bulk;
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// let sql = bulk::upsert_many_presorted(&Postgres, &model, bulk::Source::Unnest).unwrap();
/// assert!(!sql.contains("DISTINCT ON"));
/// assert!(!sql.contains("ORDER BY"));
/// ```
#[must_use]
pub fn upsert_many_presorted(
    dialect: &dyn Dialect,
    model: &Model,
    source: Source,
) -> Option<String> {
    if !model.presorted() {
        return None;
    }
    let bulk = Bulk::new(dialect, model);
    let mut w = SqlBuf::new(dialect);
    bulk.input_cte(&mut w, source);
    sent_cte(&mut w, model, &bulk.input);
    bulk.written_cte(&mut w, source, true);
    bulk.counts(&mut w, &bulk.input);
    Some(w.finish())
}

/// The outcome codes of [`upsert_many_outcomes`]'s rows, as `int2`.
pub mod outcome_code {
    /// The row inserted its key.
    pub const INSERTED: i16 = 1;
    /// The row updated its key (stored before, or inserted by an earlier row of the batch).
    pub const UPDATED: i16 = 2;
    /// The row wrote nothing: nothing to update, or a guard held it back.
    pub const SKIPPED: i16 = 3;
    /// The row wrote nothing: `skip_unchanged` found nothing to change.
    pub const UNCHANGED: i16 = 4;
}

/// [`upsert_many`] answering one row per batch row, `(ordinal, outcome code)` in input
/// order ([`outcome_code`]), instead of one row of counts: what applying the rows one by one
/// would have reported for each. The write is the same statement part. A key's first row
/// inserts it when the write inserted it; every later row that applied updated it (with
/// nothing to update, it skipped); a row with a NULL key (never conflicting) inserted; rows
/// of a key the write left alone were skipped (or unchanged, under `skip_unchanged`); under
/// a `version` guard, a row whose version did not beat every earlier one was skipped.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::bulk;
/// let model = Model::new(Table { schema: None, name: "tag" }, ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)], None, false);
/// let sql = bulk::upsert_many_outcomes(&Postgres, &model, bulk::Source::Unnest);
/// assert!(sql.contains(r#"RETURNING "name", (xmax = 0) AS "inserted""#));
/// assert!(sql.ends_with(r#"ORDER BY "excluded"."__atomic_upsert_ord""#));
/// ```
#[must_use]
pub fn upsert_many_outcomes(dialect: &dyn Dialect, model: &Model, source: Source) -> String {
    let bulk = Bulk::new(dialect, model);
    let mut w = SqlBuf::new(dialect);
    let rows_from = bulk.write(&mut w, source);
    bulk.outcomes(&mut w, &rows_from);
    w.finish()
}

/// The pieces of [`upsert_many`]'s statement, with the quoted names they share.
pub(super) struct Bulk<'m, 'a> {
    model: &'m Model<'a>,
    keys: Vec<&'m Column<'a>>,
    /// `"k1", "k2"`
    key_list: String,
    /// The keys in the batch's lock order: `"k1" COLLATE "C", "k2"` (a string key sorts
    /// by its bytes, [`Column::sorts_by_bytes`]).
    key_order: String,
    /// What groups a key's rows: the keys, and under [`NullKeys::Distinct`] the ordinal of
    /// a row with a NULL key (such a row never conflicts, so it stays alone).
    group_list: String,
    /// The quoted ordinal column.
    pub(super) ord: String,
    /// `PARTITION BY "k1", "k2"`
    pub(super) partition: String,
    /// Under a version guard, the quoted "applies" flag.
    applies: Option<String>,
    pub(super) input: String,
    ranked: String,
    dedup: String,
    applied: String,
    written: String,
}

impl<'m, 'a> Bulk<'m, 'a> {
    pub(super) fn new(dialect: &dyn Dialect, model: &'m Model<'a>) -> Self {
        let keys = model.keys();
        let mut w = SqlBuf::new(dialect);
        w.list(&keys, |w, c| {
            w.ident(c.name);
        });
        let key_list = w.finish();
        // The keys as the batch sorts them: a string key by its bytes, as the client does.
        let mut w = SqlBuf::new(dialect);
        w.list(&keys, |w, c| {
            w.ident(c.name);
            if c.sorts_by_bytes {
                w.push(" COLLATE ").ident("C");
            }
        });
        let key_order = w.finish();
        let ord = dialect.quote_ident(names::ORD_COLUMN);
        let group_list = if model.null_keys == NullKeys::Distinct {
            let nulls: Vec<String> = keys
                .iter()
                .map(|c| format!("{} IS NULL", dialect.quote_ident(c.name)))
                .collect();
            format!(
                "{key_order}, CASE WHEN {} THEN {ord} END",
                nulls.join(" OR ")
            )
        } else {
            key_order.clone()
        };
        let partition = format!("PARTITION BY {group_list}");
        let q = |name| dialect.quote_ident(name);
        Bulk {
            model,
            keys,
            key_list,
            key_order,
            group_list,
            ord,
            partition,
            applies: model.guard.version.map(|_| q(names::APPLIES)),
            input: q(names::INPUT),
            ranked: q(names::RANKED),
            dedup: q(names::DEDUP),
            applied: q(names::APPLIED),
            written: q(names::WRITTEN),
        }
    }

    /// `WITH "__input" AS (..)`: the batch rows with their ordinal; values with a
    /// `sql_type` or `collate` converted first, so that keys compare as the column does.
    ///
    /// On the `UNNEST` path an array column takes three parameters, in this order: each
    /// row's NULL flag (`bool[]`, in the `UNNEST`), the flat array of every row's elements,
    /// and each element's row (`int8[]`, the row's ordinal). A CTE per array column rebuilds the rows' arrays
    /// from the last two with one hash aggregate (slicing the flat array per row would
    /// seek from its start every time: quadratic for variable-length elements), and the
    /// input joins it on the row's ordinal; a row with no elements gets `{}`.
    pub(super) fn input_cte(&self, w: &mut SqlBuf, source: Source) {
        let bound = self.model.bound();
        let arrays = source == Source::Unnest && bound.iter().any(|c| c.array);
        let converted = bound
            .iter()
            .any(|c| c.cast.is_some() || c.collate.is_some());
        // The first parameter of each bound column.
        let mut next = 1;
        let first: Vec<usize> = bound
            .iter()
            .map(|c| {
                let at = next;
                next += if arrays && c.array { 3 } else { 1 };
                at
            })
            .collect();
        let items: Vec<(usize, &&Column)> = bound.iter().enumerate().collect();
        let cte = |i: usize| format!("{}{i}", names::ARRAY_CTE);
        let null_flag = |i: usize| format!("{}{i}", names::ARRAY_NULL);
        w.push("WITH ");
        if arrays {
            for &(i, _) in items.iter().filter(|(_, c)| c.array) {
                array_cte(w, &cte(i), first[i]);
            }
        }
        let _ = write!(w, "{} AS (SELECT ", self.input);
        if converted || arrays {
            w.list(&items, |w, &(i, c)| {
                if arrays && c.array {
                    w.push("CASE WHEN ").qualified(names::UNNEST, &null_flag(i));
                    w.push(" THEN NULL ELSE coalesce(");
                    w.qualified(&cte(i), names::ARRAY_VALUE).push(", '{}') END");
                } else if arrays {
                    w.qualified(names::UNNEST, c.name);
                } else {
                    w.ident(c.name);
                }
                if let Some(cast) = c.cast {
                    w.push("::").push(cast);
                }
                if let Some(collate) = c.collate {
                    w.push(" COLLATE ").ident(collate);
                }
                if c.cast.is_some() || c.collate.is_some() || arrays {
                    w.push(" AS ").ident(c.name);
                }
            });
            w.push(", ");
            if arrays {
                w.qualified(names::UNNEST, names::ORD_COLUMN);
            } else {
                w.push(&self.ord);
            }
            w.push(" FROM ");
        } else {
            w.push("* FROM ");
        }
        match source {
            Source::Unnest => {
                w.push("UNNEST(");
                w.list(&items, |w, &(i, _)| {
                    w.placeholder(first[i]);
                });
                w.push(") WITH ORDINALITY AS ")
                    .ident(names::UNNEST)
                    .push("(");
                w.list(&items, |w, &(i, c)| {
                    if arrays && c.array {
                        w.ident(&null_flag(i));
                    } else {
                        w.ident(c.name);
                    }
                });
                let _ = write!(w, ", {})", self.ord);
                for &(i, _) in items.iter().filter(|(_, c)| arrays && c.array) {
                    w.push(" LEFT JOIN ").ident(&cte(i)).push(" ON ");
                    w.qualified(&cte(i), names::ARRAY_OWNER).push(" = ");
                    w.qualified(names::UNNEST, names::ORD_COLUMN);
                }
            }
            Source::Stage => {
                w.ident(names::STAGE_TABLE);
            }
        }
        w.push(")");
    }

    /// `, "__ranked" AS (..)`: each row flagged `"__applies"` when its version beats every
    /// earlier row of its key and the stored row (as this statement's snapshot sees it;
    /// the write itself re-checks against the locked row).
    fn ranked_cte(&self, w: &mut SqlBuf, version: &str) {
        let (ord, partition, key_list) = (&self.ord, &self.partition, &self.key_list);
        let v = w.dialect().quote_ident(version);
        let _ = write!(
            w,
            ", {} AS (SELECT *, ({v} > GREATEST(max({v}) OVER ({partition} ORDER BY {ord} \
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), (SELECT {v} FROM ",
            self.ranked
        );
        w.table(&self.model.table);
        let _ = write!(w, " WHERE ({key_list}) = (");
        w.list(&self.keys, |w, c| {
            w.qualified(names::INPUT, c.name);
        });
        w.push(")");
        if let ConflictTarget::Keys {
            predicate: Some(predicate),
        } = self.model.target
        {
            let _ = write!(w, " AND ({predicate})");
        }
        let _ = write!(
            w,
            " LIMIT 1))) IS NOT FALSE AS {} FROM {})",
            self.applies.as_deref().unwrap_or_default(),
            self.input
        );
    }

    /// `, "__dedup" AS (..)`: one row per key, each column folded by its strategy.
    fn dedup_cte(&self, w: &mut SqlBuf, rows_from: &str) {
        let (group_list, ord, partition) = (&self.group_list, &self.ord, &self.partition);
        let _ = write!(w, ", {} AS (SELECT DISTINCT ON ({group_list}) ", self.dedup);
        w.list(&self.model.bound(), |w, c| self.fold_into(w, c));
        if self.model.guard.any() {
            let filter = self
                .applies
                .as_ref()
                .map_or_else(String::new, |a| format!(" FILTER (WHERE {a})"));
            let _ = write!(
                w,
                ", count(*){filter} OVER ({partition}) AS {}",
                self.applied
            );
        }
        let _ = write!(w, " FROM {rows_from} ORDER BY {group_list}, ");
        if let Some(version) = self.model.guard.version {
            // The highest version wins; among equal ones the first (a later equal one is stale).
            w.ident(version);
            let _ = write!(w, " DESC NULLS LAST, {ord})");
        } else {
            let _ = write!(w, "{ord} DESC)");
        }
    }

    /// One column of `"__dedup"`: the value applying the key's rows one by one would leave.
    /// Replaced columns take the DISTINCT ON row (the last, or the highest version).
    fn fold_into(&self, w: &mut SqlBuf, column: &Column) {
        let (ord, partition) = (&self.ord, &self.partition);
        let name = w.dialect().quote_ident(column.name);
        match column.update {
            // A key whose rows are equal but not byte-equal (`citext`, a collation): the
            // first row inserts it, so its spelling is the one stored, as one by one.
            Update::Key if column.cast.is_some() || column.collate.is_some() => {
                let _ = write!(
                    w,
                    "first_value({name}) OVER ({partition} ORDER BY {ord}) AS {name}"
                );
            }
            Update::Key | Update::Replace | Update::Now => {
                w.push(&name);
            }
            // `default`: the last value sent (a `None` neither writes nor unsets one).
            Update::ReplaceIfSent => {
                let fold = Fold {
                    partition,
                    ord,
                    applies: self.applies.as_deref(),
                };
                Strategy::Coalesce.fold_into(w, &name, &fold);
            }
            // insert_only: the key's first row inserts; later rows never overwrite it.
            Update::Keep => {
                let _ = write!(
                    w,
                    "first_value({name}) OVER ({partition} ORDER BY {ord}) AS {name}"
                );
            }
            Update::Combine(strategy) => {
                let fold = Fold {
                    partition,
                    ord,
                    applies: self.applies.as_deref(),
                };
                strategy.fold_into(w, &name, &fold);
            }
        }
    }

    /// `, "__written" AS (INSERT .. SELECT .. ON CONFLICT ..)`, from `"__dedup"` in key order
    /// (`presorted` false: each strategy's fold finished, stale keys left out), or from the
    /// input as it was sent ([`upsert_many_presorted`]: no fold, no sort).
    fn written_cte(&self, w: &mut SqlBuf, source: Source, presorted: bool) {
        let model = self.model;
        let _ = write!(w, ", {} AS (", self.written);
        insert_into(w, &model.table, &model.columns);
        w.push(" SELECT ");
        w.list(&model.columns, |w, c| match (c.insert, c.update) {
            (Insert::Now, _) => {
                w.now();
            }
            (Insert::Bind, Update::Combine(strategy)) if !presorted => {
                let name = w.dialect().quote_ident(c.name);
                strategy.finish_fold_into(w, &name);
            }
            (Insert::Bind, _) => {
                let name = w.dialect().quote_ident(c.name);
                insert_value_into(w, c, &name);
            }
        });
        if presorted {
            let _ = write!(w, " FROM {}", self.input);
            if source == Source::Unnest && model.bound().iter().any(|c| c.array) {
                // The input joins each array column's rebuilt arrays, and a hash join may
                // yield rows in another order: written in the order sent, as the lock
                // order needs.
                let _ = write!(w, " ORDER BY {}", self.ord);
            }
        } else {
            let _ = write!(w, " FROM {}", self.dedup);
            if model.guard.version.is_some() {
                // A key none of whose rows beat the stored version is stale as a whole:
                // the stored version only grows, so the write would be refused anyway.
                // Leaving it out also keeps its (empty) folded values away from NOT NULL
                // checks.
                let _ = write!(w, " WHERE {} > 0", self.applied);
            }
            // Key order: concurrent batches lock their rows in the same order: no deadlock.
            let _ = write!(w, " ORDER BY {}", self.key_order);
        }
        let rows = if presorted { &self.input } else { &self.dedup };
        conflict_clause(w, model, OnConflict::Update, Sent::Rows(rows));
    }

    /// Everything up to the write's `RETURNING`: the input, the version ranking, the fold
    /// and the write. Returns the CTE the rows are read from (ranked under a version).
    fn write(&self, w: &mut SqlBuf, source: Source) -> String {
        self.input_cte(w, source);
        let rows_from = if let Some(version) = self.model.guard.version {
            self.ranked_cte(w, version);
            self.ranked.clone()
        } else {
            self.input.clone()
        };
        self.dedup_cte(w, &rows_from);
        sent_cte(w, self.model, &self.dedup);
        self.written_cte(w, source, false);
        rows_from
    }

    /// The closing `RETURNING` (the written keys and whether each was inserted) and one
    /// outcome per batch row, in input order: see [`upsert_many_outcomes`].
    fn outcomes(&self, w: &mut SqlBuf, rows_from: &str) {
        let dialect = w.dialect();
        let q = |name| dialect.quote_ident(name);
        let (inserted, ord, partition) = (q(names::INSERTED), &self.ord, &self.partition);
        let (rows, written, first) = (
            q(names::ROWS_ALIAS),
            q(names::WRITTEN_ALIAS),
            q(names::FIRST),
        );
        w.push(" RETURNING ");
        w.list(&self.keys, |w, c| {
            w.ident(c.name);
        });
        let _ = write!(
            w,
            ", {} AS {inserted}) SELECT {rows}.{ord}, (CASE",
            w.fragment(|w| inserted_flag_into(w, self.model, OnConflict::Update))
        );
        if self.model.null_keys == NullKeys::Distinct {
            // A NULL key never conflicts: the row inserted, guards or not.
            w.push(" WHEN ");
            for (i, key) in self.keys.iter().enumerate() {
                if i > 0 {
                    w.push(" OR ");
                }
                w.qualified(names::ROWS_ALIAS, key.name).push(" IS NULL");
            }
            let _ = write!(w, " THEN {}", outcome_code::INSERTED);
        }
        let unwritten = outcome_code::SKIPPED;
        if self.model.guard.skip_unchanged {
            // A row the write left alone is unchanged when the stored row already holds
            // what it would have written (as `upsert` tells it), else a guard held it back.
            let _ = write!(
                w,
                " WHEN {written}.{inserted} IS NULL AND EXISTS (SELECT 1 FROM "
            );
            w.table(&self.model.table).push(" WHERE (");
            w.list(&self.keys, |w, c| {
                w.qualified(self.model.table.name, c.name);
            });
            w.push(") = (");
            w.list(&self.keys, |w, c| {
                w.qualified(names::ROWS_ALIAS, c.name);
            });
            w.push(") AND NOT ");
            crate::clause::changed_into(w, self.model, Sent::Rows(&self.dedup));
            let _ = write!(w, ") THEN {}", outcome_code::UNCHANGED);
        }
        let _ = write!(w, " WHEN {written}.{inserted} IS NULL THEN {unwritten}");
        if let Some(applies) = &self.applies {
            let _ = write!(
                w,
                " WHEN NOT {rows}.{applies} THEN {}",
                outcome_code::SKIPPED
            );
        }
        let later = if self.model.has_updates() {
            outcome_code::UPDATED
        } else {
            outcome_code::SKIPPED
        };
        let _ = write!(
            w,
            " WHEN {written}.{inserted} AND {rows}.{ord} = {rows}.{first} THEN {} \
             WHEN {written}.{inserted} THEN {later} ELSE {} END)::int2 \
             FROM (SELECT *, min({ord}) OVER ({partition}) AS {first} FROM {rows_from}) AS {rows} \
             LEFT JOIN {} AS {written} ON ",
            outcome_code::INSERTED,
            if self.model.has_updates() {
                outcome_code::UPDATED
            } else {
                outcome_code::SKIPPED
            },
            self.written
        );
        self.written_key_matches(w);
        let _ = write!(w, " ORDER BY {rows}.{ord}");
    }

    /// `<written key> = <row key> AND ..`, the written key converted as the batch compares
    /// keys (`sql_type`, `collate`) and compared with the type's own `=`: a schema-qualified
    /// type's operator is not on the search path (`citext` from an extension schema would
    /// compare as `text`).
    fn written_key_matches(&self, w: &mut SqlBuf) {
        let null_safe = self.model.null_keys == NullKeys::NotDistinct;
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                w.push(" AND ");
            }
            let written_key = w.fragment(|w| {
                w.qualified(names::WRITTEN_ALIAS, key.name);
                if let Some(cast) = key.cast {
                    w.push("::").push(cast);
                }
                if let Some(collate) = key.collate {
                    w.push(" COLLATE ").ident(collate);
                }
            });
            let row_key = w.fragment(|w| {
                w.qualified(names::ROWS_ALIAS, key.name);
            });
            let equals = match key.cast.and_then(|cast| cast.rsplit_once('.')) {
                Some((schema, _)) => format!("OPERATOR({schema}.=)"),
                None => "=".to_owned(),
            };
            if null_safe {
                let _ = write!(
                    w,
                    "({written_key} {equals} {row_key} OR ({written_key} IS NULL AND {row_key} IS NULL))"
                );
            } else {
                let _ = write!(w, "{written_key} {equals} {row_key}");
            }
        }
    }

    /// The closing `RETURNING` and the one row of counts, laid out as [`Counts`] says.
    ///
    /// Unguarded: with DO UPDATE every distinct key is written, so the distinct count is
    /// the written count; only DO NOTHING must count the deduplicated rows, which makes
    /// PostgreSQL materialize them. Read once, `__dedup` is inlined and its DISTINCT ON sort
    /// already yields key order: no second sort.
    fn counts(&self, w: &mut SqlBuf, rows_from: &str) {
        let dialect = w.dialect();
        let q = |name| dialect.quote_ident(name);
        match Counts::of(self.model) {
            Counts::Guarded => {
                let (wa, da, flag) = (
                    q(names::WRITTEN_ALIAS),
                    q(names::DEDUP_ALIAS),
                    q(names::INSERTED_GUARDED),
                );
                w.push(" RETURNING ");
                w.list(&self.keys, |w, c| {
                    w.ident(c.name);
                });
                // A written row with a NULL key matches no folded row: it is one applied row.
                let (join, applied) = if self.model.null_keys == NullKeys::Distinct {
                    ("LEFT JOIN", format!("coalesce({da}.{}, 1)", self.applied))
                } else {
                    ("JOIN", format!("{da}.{}", self.applied))
                };
                let _ = write!(
                    w,
                    ", {} AS {flag}) SELECT count(*), count(*) FILTER (WHERE {wa}.{flag}), \
                     coalesce(sum({applied}), 0)::int8 FROM {} AS {wa} {join} {} AS {da} ON (",
                    w.fragment(|w| inserted_flag_into(w, self.model, OnConflict::Update)),
                    self.written,
                    self.dedup
                );
                w.list(&self.keys, |w, c| {
                    w.qualified(names::WRITTEN_ALIAS, c.name);
                });
                w.push(") = (");
                w.list(&self.keys, |w, c| {
                    w.qualified(names::DEDUP_ALIAS, c.name);
                });
                w.push(")");
            }
            Counts::Keys { updates } => {
                let inserted = q(names::INSERTED);
                let _ = write!(
                    w,
                    " RETURNING {} AS {inserted}) SELECT ",
                    w.fragment(|w| inserted_flag_into(w, self.model, OnConflict::Update))
                );
                if updates {
                    w.push("count(*)");
                } else {
                    let _ = write!(w, "(SELECT count(*) FROM {rows_from})");
                }
                let _ = write!(
                    w,
                    ", count(*) FILTER (WHERE {inserted}), count(*) FILTER (WHERE NOT {inserted}) FROM {}",
                    self.written
                );
            }
        }
    }
}

/// `"__atomic_upsert_arrN" AS (..), `: an array column's rows rebuilt from the flat elements
/// (parameter `first + 1`) and their rows (`first + 2`) with one hash aggregate.
fn array_cte(w: &mut SqlBuf, name: &str, first: usize) {
    w.ident(name).push(" AS (SELECT ");
    w.ident(names::ARRAY_OWNER).push(", array_agg(");
    w.ident(names::ARRAY_ELEMENT).push(" ORDER BY ");
    w.ident(names::ARRAY_POSITION).push(") AS ");
    w.ident(names::ARRAY_VALUE).push(" FROM UNNEST(");
    w.placeholder(first + 1).push(", ").placeholder(first + 2);
    w.push(") WITH ORDINALITY AS ")
        .ident(names::ARRAY_ELEMENT)
        .push("(");
    w.ident(names::ARRAY_ELEMENT).push(", ");
    w.ident(names::ARRAY_OWNER).push(", ");
    w.ident(names::ARRAY_POSITION).push(") GROUP BY ");
    w.ident(names::ARRAY_OWNER).push("), ");
}

#[cfg(test)]
mod tests {
    use super::{Counts, Source, upsert_many};
    use crate::model::Model;
    use crate::model::Tally;
    use crate::model::fixtures::{KEYS, plain, table};
    use crate::postgres::Postgres;
    use crate::postgres::stage::stage_copy;
    use crate::role::Role;
    use crate::role::Strategy;

    #[test]
    fn sent_values_are_looked_up_by_key_from_one_object_built_once() {
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
        let sql = upsert_many(&Postgres, &model, Source::Unnest);
        assert!(sql.contains(r#", "__atomic_upsert_sent" AS (SELECT pg_catalog.jsonb_object_agg(ROW("__dedup"."id")::text, pg_catalog.jsonb_build_object('body', "__dedup"."body")) AS "__atomic_upsert_sent_by_key" FROM "__dedup")"#), "{sql}");
        assert!(
            sql.contains(r#"SELECT "id", COALESCE("read", false), "body" FROM "__dedup""#),
            "{sql}"
        );
        let lookup = |c: &str| {
            format!(
                r#"(pg_catalog.jsonb_populate_record(NULL::"mention", (SELECT "__atomic_upsert_sent_by_key" FROM "__atomic_upsert_sent") -> ROW(EXCLUDED."id")::text))."{c}""#
            )
        };
        // Whether `None` was sent: one hashed set of the keys whose value is NULL.
        assert!(sql.contains(r#""read" = CASE WHEN ROW(EXCLUDED."id") IN (SELECT "__dedup"."id" FROM "__dedup" WHERE "__dedup"."read" IS NULL) THEN "mention"."read" ELSE EXCLUDED."read" END"#), "{sql}");
        assert!(
            sql.contains(&format!(r#""body" = {}"#, lookup("body"))),
            "{sql}"
        );
        // A `None` neither writes nor unsets: the last value sent.
        assert!(
            sql.contains(r#"first_value("read") OVER (PARTITION BY "id" ORDER BY "read" IS NULL"#),
            "{sql}"
        );
        let presorted = super::upsert_many_presorted(&Postgres, &model, Source::Stage).unwrap();
        assert!(presorted.contains(r#"FROM "__input")"#), "{presorted}");
        // Without such a column, no lookup.
        assert!(
            !upsert_many(
                &Postgres,
                &plain("t", [("k", Role::Key), ("v", Role::Write)]),
                Source::Unnest
            )
            .contains("jsonb")
        );
    }

    #[test]
    fn bulk_statement_dedups_orders_and_counts() {
        let model = plain(
            "t",
            [
                ("k", Role::Key),
                ("first", Role::InsertOnly),
                ("v", Role::Write),
                ("updated_at", Role::UpdatedAt),
            ],
        );
        assert_eq!(
            upsert_many(&Postgres, &model, Source::Unnest),
            concat!(
                r#"WITH "__input" AS (SELECT * FROM UNNEST($1, $2, $3) WITH ORDINALITY AS "__u"("k", "first", "v", "__atomic_upsert_ord")), "#,
                r#""__dedup" AS (SELECT DISTINCT ON ("k") "k", first_value("first") OVER (PARTITION BY "k" ORDER BY "__atomic_upsert_ord") AS "first", "v" FROM "__input" ORDER BY "k", "__atomic_upsert_ord" DESC), "#,
                r#""__written" AS (INSERT INTO "t" ("k", "first", "v", "updated_at") SELECT "k", "first", "v", now() FROM "__dedup" ORDER BY "k" ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v", "updated_at" = now() RETURNING (xmax = 0) AS "inserted") "#,
                r#"SELECT count(*), count(*) FILTER (WHERE "inserted"), count(*) FILTER (WHERE NOT "inserted") FROM "__written""#
            )
        );
        assert!(
            upsert_many(&Postgres, &model, Source::Stage)
                .starts_with(r#"WITH "__input" AS (SELECT * FROM "__atomic_upsert_stage"), "#)
        );
        assert_eq!(
            stage_copy(&Postgres, &model),
            r#"COPY "__atomic_upsert_stage" ("k", "first", "v", "__atomic_upsert_ord") FROM STDIN (FORMAT binary)"#
        );
        assert_eq!(Counts::of(&model), Counts::Keys { updates: true });
    }

    #[test]
    fn array_columns_are_rebuilt_from_one_flat_array_on_the_unnest_path() {
        let mut model = plain("t", [("k", Role::Key), ("tags", Role::Write)]);
        model.columns[1].array = true;
        assert!(upsert_many(&Postgres, &model, Source::Unnest).starts_with(concat!(
            r#"WITH "__atomic_upsert_arr1" AS (SELECT "__atomic_upsert_owner", "#,
            r#"array_agg("__atomic_upsert_element" ORDER BY "__atomic_upsert_position") AS "__atomic_upsert_value" "#,
            r#"FROM UNNEST($3, $4) WITH ORDINALITY AS "__atomic_upsert_element"("__atomic_upsert_element", "#,
            r#""__atomic_upsert_owner", "__atomic_upsert_position") GROUP BY "__atomic_upsert_owner"), "#,
            r#""__input" AS (SELECT "__u"."k" AS "k", CASE WHEN "__u"."__atomic_upsert_null1" THEN NULL "#,
            r#"ELSE coalesce("__atomic_upsert_arr1"."__atomic_upsert_value", '{}') END AS "tags", "#,
            r#""__u"."__atomic_upsert_ord" FROM UNNEST($1, $2) WITH ORDINALITY AS "__u"("k", "#,
            r#""__atomic_upsert_null1", "__atomic_upsert_ord") LEFT JOIN "__atomic_upsert_arr1" ON "#,
            r#""__atomic_upsert_arr1"."__atomic_upsert_owner" = "__u"."__atomic_upsert_ord"), "#
        )));
        // The staging table holds the arrays as they are.
        assert!(
            upsert_many(&Postgres, &model, Source::Stage)
                .starts_with(r#"WITH "__input" AS (SELECT * FROM "__atomic_upsert_stage"), "#)
        );
    }

    #[test]
    fn nothing_to_update_counts_the_deduplicated_keys() {
        let model = plain("link", [("a", Role::Key), ("b", Role::Key)]);
        let sql = upsert_many(&Postgres, &model, Source::Unnest);
        assert!(sql.ends_with(r#"SELECT (SELECT count(*) FROM "__dedup"), count(*) FILTER (WHERE "inserted"), count(*) FILTER (WHERE NOT "inserted") FROM "__written""#), "{sql}");
        assert_eq!(Counts::of(&model), Counts::Keys { updates: false });
    }

    #[test]
    fn version_guard_folds_only_applying_rows() {
        let model = Model::new(
            table("state"),
            KEYS,
            [
                ("k", Role::Key),
                ("v", Role::Version),
                ("n", Role::Combine(Strategy::Add)),
                ("updated_at", Role::UpdatedAt),
            ],
            Some("NOT state.frozen"),
            false,
        );
        let many = upsert_many(&Postgres, &model, Source::Unnest);
        assert!(many.contains(r#"AS "__applies" FROM "__input")"#), "{many}");
        assert!(
            many.contains(r#"sum("n") FILTER (WHERE "__applies") OVER (PARTITION BY "k") AS "n""#),
            "{many}"
        );
        assert!(
            many.contains(r#"FROM "__dedup" WHERE "__applied" > 0 ORDER BY "k""#),
            "{many}"
        );
        assert!(many.ends_with(r#"ON ("__w"."k") = ("__d"."k")"#), "{many}");
        assert_eq!(Counts::of(&model), Counts::Guarded);
    }

    #[test]
    fn converted_keys_compare_as_the_column_does() {
        let model = plain("t", [("email", Role::Key), ("v", Role::Write)]).with_input(
            "email",
            Some("citext"),
            Some("ci"),
        );
        let sql = upsert_many(&Postgres, &model, Source::Unnest);
        assert!(
            sql.starts_with(r#"WITH "__input" AS (SELECT "email"::citext COLLATE "ci" AS "email", "v", "__atomic_upsert_ord" FROM UNNEST($1, $2) WITH ORDINALITY AS "__u"("email", "v", "__atomic_upsert_ord")), "#),
            "{sql}"
        );
        let stage = upsert_many(&Postgres, &model, Source::Stage);
        assert!(
            stage.starts_with(r#"WITH "__input" AS (SELECT "email"::citext COLLATE "ci" AS "email", "v", "__atomic_upsert_ord" FROM "__atomic_upsert_stage"), "#),
            "{stage}"
        );
    }

    #[test]
    fn null_keys_stay_apart_unless_not_distinct() {
        let fields = [("k", Role::Key), ("v", Role::Write)];
        let distinct = plain("t", fields).with_null_keys(crate::NullKeys::Distinct);
        let sql = upsert_many(&Postgres, &distinct, Source::Unnest);
        assert!(
            sql.contains(
                r#"DISTINCT ON ("k", CASE WHEN "k" IS NULL THEN "__atomic_upsert_ord" END)"#
            ),
            "{sql}"
        );
        assert!(sql.contains(r#"ORDER BY "k" ON CONFLICT"#), "{sql}");
        let folded = plain("t", fields).with_null_keys(crate::NullKeys::NotDistinct);
        assert_eq!(
            upsert_many(&Postgres, &folded, Source::Unnest),
            upsert_many(&Postgres, &plain("t", fields), Source::Unnest)
        );
        let guarded = Model::new(
            table("t"),
            KEYS,
            [("k", Role::Key), ("v", Role::Version)],
            None,
            false,
        )
        .with_null_keys(crate::NullKeys::Distinct);
        let sql = upsert_many(&Postgres, &guarded, Source::Unnest);
        assert!(
            sql.ends_with(r#"coalesce(sum(coalesce("__d"."__applied", 1)), 0)::int8 FROM "__written" AS "__w" LEFT JOIN "__dedup" AS "__d" ON ("__w"."k") = ("__d"."k")"#),
            "{sql}"
        );
    }

    #[test]
    fn tallies_follow_the_layout() {
        // Unguarded, DO UPDATE: a, b, a over a stored b → 1 inserted, 2 updated.
        assert_eq!(
            Counts::Keys { updates: true }.tally(3, [2, 1, 1]),
            Tally {
                inserted: 1,
                updated: 2,
                skipped: 0
            }
        );
        // Unguarded, DO NOTHING: a, b, a over a stored b → 1 inserted, 2 skipped.
        assert_eq!(
            Counts::Keys { updates: false }.tally(3, [2, 1, 0]),
            Tally {
                inserted: 1,
                updated: 0,
                skipped: 2
            }
        );
        // Guarded: 5 rows, 2 keys written (1 inserted), 3 rows applied → 2 stale.
        assert_eq!(
            Counts::Guarded.tally(5, [2, 1, 3]),
            Tally {
                inserted: 1,
                updated: 2,
                skipped: 2
            }
        );
    }

    /// A string key of a derived struct sorts by its bytes in every batch statement, so
    /// that a folded batch locks rows in the order the client sorts a presorted one; a
    /// key converted for the batch (`sql_type`, `collate`) keeps its own order, and cannot
    /// go presorted.
    #[test]
    fn string_keys_sort_by_bytes_and_presorted_batches_neither_fold_nor_sort() {
        use super::upsert_many_presorted;
        use crate::model::FieldDef;
        let field = |column, role, text, cast| FieldDef {
            column,
            role,
            optional: column == "zone",
            cast,
            collate: None,
            array: false,
            text,
            default: None,
            sent: false,
        };
        let fields = [
            field("zone", Role::Key, false, None),
            field("name", Role::Key, true, None),
            field("n", Role::Combine(Strategy::Add), false, None),
        ];
        let model = Model::of_fields(table("t"), KEYS, &fields, None, false, false);
        let sql = upsert_many(&Postgres, &model, Source::Unnest);
        assert!(
            sql.contains(r#"DISTINCT ON ("zone", "name" COLLATE "C", CASE WHEN "zone" IS NULL OR "name" IS NULL THEN "__atomic_upsert_ord" END)"#),
            "{sql}"
        );
        assert!(
            sql.contains(r#"ORDER BY "zone", "name" COLLATE "C" ON CONFLICT ("zone", "name")"#),
            "{sql}"
        );
        let presorted = upsert_many_presorted(&Postgres, &model, Source::Stage).unwrap();
        assert_eq!(
            presorted,
            concat!(
                r#"WITH "__input" AS (SELECT * FROM "__atomic_upsert_stage"), "__written" AS ("#,
                r#"INSERT INTO "t" ("zone", "name", "n") SELECT "zone", "name", "n" FROM "__input" "#,
                r#"ON CONFLICT ("zone", "name") DO UPDATE SET "n" = "t"."n" + EXCLUDED."n" "#,
                r#"RETURNING (xmax = 0) AS "inserted") SELECT count(*), count(*) FILTER (WHERE "inserted"), "#,
                r#"count(*) FILTER (WHERE NOT "inserted") FROM "__written""#
            )
        );

        let citext = [
            field("zone", Role::Key, false, None),
            field("name", Role::Key, true, Some("citext")),
            field("n", Role::Write, false, None),
        ];
        let model = Model::of_fields(table("t"), KEYS, &citext, None, false, false);
        assert!(!upsert_many(&Postgres, &model, Source::Unnest).contains(r#"COLLATE "C""#));
        assert!(upsert_many_presorted(&Postgres, &model, Source::Unnest).is_none());

        // Nothing to update: the distinct count is the input's.
        let model = plain("t", [("k", Role::Key)]);
        let sql = upsert_many_presorted(&Postgres, &model, Source::Unnest).unwrap();
        assert!(sql.ends_with(r#"SELECT (SELECT count(*) FROM "__input"), count(*) FILTER (WHERE "inserted"), count(*) FILTER (WHERE NOT "inserted") FROM "__written""#), "{sql}");
        // An array column joins the input: the presorted UNNEST keeps the order sent.
        let mut arrays = plain("t", [("k", Role::Key), ("tags", Role::Write)]);
        arrays.columns[1].array = true;
        let sql = upsert_many_presorted(&Postgres, &arrays, Source::Unnest).unwrap();
        assert!(
            sql.contains(r#"ORDER BY "__atomic_upsert_ord" ON CONFLICT"#),
            "{sql}"
        );
        let sql = upsert_many_presorted(&Postgres, &arrays, Source::Stage).unwrap();
        assert!(!sql.contains("ORDER BY"), "{sql}");
        // A guard is left to the fold.
        let guarded = Model::new(
            table("t"),
            KEYS,
            [("k", Role::Key), ("v", Role::Version)],
            None,
            false,
        );
        assert!(upsert_many_presorted(&Postgres, &guarded, Source::Unnest).is_none());
    }
}
