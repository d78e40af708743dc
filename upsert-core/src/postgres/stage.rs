//! PostgreSQL's staging table: what loads it (`COPY`, or `INSERT .. UNNEST` on a lent
//! connection), its DDL, and the rounds of distinct keys a batch is applied in where the
//! table watches every row.

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::model::Model;
use crate::names;
use crate::sql_buf::SqlBuf;

use super::bulk::{Bulk, Source};

/// `COPY` of the bound columns plus the ordinal into the staging table, binary format.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::stage;
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write), ("seen", Role::UpdatedAt)],
///     None,
///     false,
/// );
/// assert_eq!(
///     stage::stage_copy(&Postgres, &model),
///     r#"COPY "__atomic_upsert_stage" ("name", "color", "__atomic_upsert_ord") FROM STDIN (FORMAT binary)"#
/// );
/// ```
#[must_use]
pub fn stage_copy(dialect: &dyn Dialect, model: &Model) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("COPY ").ident(names::STAGE_TABLE).push(" (");
    for column in model.bound() {
        w.ident(column.name).push(", ");
    }
    w.ident(names::ORD_COLUMN)
        .push(") FROM STDIN (FORMAT binary)");
    w.finish()
}

/// `INSERT` into the staging table of the rows bound as the `UNNEST` statement binds them
/// (the same input, array columns rebuilt), plus one last parameter, an `int8[]` of each
/// row's staging ordinal: the rows staged by ordinary statements instead of `COPY`, on a
/// connection whose `COPY` a dropped call could leave out of step (one a caller lends,
/// which the call cannot close).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::stage;
///
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     [("name", Role::Key), ("color", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(
///     stage::stage_insert(&Postgres, &model),
///     concat!(
///         r#"WITH "__input" AS (SELECT * FROM UNNEST($1, $2) WITH ORDINALITY AS "__u"("name", "color", "__atomic_upsert_ord")) "#,
///         r#"INSERT INTO "__atomic_upsert_stage" ("name", "color", "__atomic_upsert_ord") "#,
///         r#"SELECT "name", "color", ($3::int8[])["__atomic_upsert_ord"] FROM "__input""#,
///     )
/// );
/// ```
#[must_use]
pub fn stage_insert(dialect: &dyn Dialect, model: &Model) -> String {
    let bulk = Bulk::new(dialect, model);
    let bound = model.bound();
    let arrays = bound.iter().any(|c| c.array);
    let params: usize = bound
        .iter()
        .map(|c| if arrays && c.array { 3 } else { 1 })
        .sum();
    let mut w = SqlBuf::new(dialect);
    bulk.input_cte(&mut w, Source::Unnest);
    w.push(" INSERT INTO ").ident(names::STAGE_TABLE).push(" (");
    for column in &bound {
        w.ident(column.name).push(", ");
    }
    w.ident(names::ORD_COLUMN).push(") SELECT ");
    for column in &bound {
        w.ident(column.name).push(", ");
    }
    w.push("(")
        .placeholder(params + 1)
        .push("::int8[])[")
        .push(&bulk.ord)
        .push("] FROM ")
        .push(&bulk.input);
    w.finish()
}

/// `CREATE TEMP TABLE` of the staging table, from the bound columns and the type names
/// their values are encoded as (binary `COPY` does no casts), plus the ordinal. Built at
/// run time, because the type names come from the driver; only identifiers and type names
/// go in.
///
/// ```
/// use upsert_core::Postgres;
/// use upsert_core::postgres::stage;
/// assert_eq!(
///     stage::stage_ddl(&Postgres, [("name", "TEXT"), ("n", "INT8")]),
///     r#"CREATE TEMP TABLE "__atomic_upsert_stage" ("name" TEXT, "n" INT8, "__atomic_upsert_ord" int8) ON COMMIT DROP"#
/// );
/// ```
#[must_use]
pub fn stage_ddl<'a>(
    dialect: &dyn Dialect,
    columns: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("CREATE TEMP TABLE ")
        .ident(names::STAGE_TABLE)
        .push(" (");
    for (column, ty) in columns {
        w.ident(column).push(" ").push(ty).push(", ");
    }
    w.ident(names::ORD_COLUMN).push(" int8) ON COMMIT DROP");
    w.finish()
}

/// `DROP TABLE` of the staging table.
///
/// ```
/// use upsert_core::Postgres;
/// use upsert_core::postgres::stage;
/// assert_eq!(stage::drop_stage(&Postgres), r#"DROP TABLE "__atomic_upsert_stage""#);
/// ```
#[must_use]
pub fn drop_stage(dialect: &dyn Dialect) -> String {
    let mut w = SqlBuf::new(dialect);
    w.push("DROP TABLE ").ident(names::STAGE_TABLE);
    w.finish()
}

/// Numbers each staged row's round, for a table whose CHECK constraints or row triggers
/// must see every row as one by one would (the fold shows them one row per key): round `r`
/// holds each key's `r`th row (keys compared as the batch compares them: `sql_type`,
/// `collate`, NULL keys apart), so every round is a batch of distinct keys, applied after
/// the rounds before it in the same transaction. `CREATE TEMP TABLE` of
/// [`names::ROUNDS`]; the other statements are [`RoundStatements`].
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
/// use upsert_core::postgres::stage;
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)], None, false);
/// assert!(stage::round_numbers(&Postgres, &model)
///     .contains(r#"row_number() OVER (PARTITION BY "k" ORDER BY "__atomic_upsert_ord")"#));
/// ```
#[must_use]
pub fn round_numbers(dialect: &dyn Dialect, model: &Model) -> String {
    let bulk = Bulk::new(dialect, model);
    let q = |name| dialect.quote_ident(name);
    let mut w = SqlBuf::new(dialect);
    let _ = write!(
        w,
        "CREATE TEMP TABLE {} ON COMMIT DROP AS ",
        q(names::ROUNDS)
    );
    bulk.input_cte(&mut w, Source::Stage);
    let ord = &bulk.ord;
    let _ = write!(
        w,
        " SELECT {ord}, row_number() OVER ({} ORDER BY {ord}) AS {} FROM {}",
        bulk.partition,
        q(names::ROUND),
        bulk.input
    );
    w.finish()
}

/// The statements around [`round_numbers`], the same for every struct: the staged rows are
/// kept aside, and the staging table's name becomes a view of one round, the one a session
/// setting names, so that each round is the struct's own statement over the stage.
///
/// ```
/// let rounds = upsert_core::postgres::stage::RoundStatements::of(&upsert_core::Postgres);
/// assert!(rounds.view.contains("current_setting('atomic_upsert.round')"));
/// ```
#[derive(Clone, Debug)]
pub struct RoundStatements {
    /// `ALTER TABLE stage RENAME TO all`: every staged row, kept aside (indexed by ordinal,
    /// the round numbers by round).
    pub keep: String,
    /// The staging table's name as a view of the current round's rows.
    pub view: String,
    /// Sets the current round to `$1` (text), for the transaction.
    pub select: String,
    /// Limits the view to the round's rows up to ordinal `$1` (text; empty: all), to find
    /// the row at fault in a round that failed.
    pub until: String,
    /// The ordinals of round `$1`, in order.
    pub ords: String,
    /// `(round, rows)`, in round order.
    pub sizes: String,
    /// Drops the view, the kept rows and the round numbers.
    pub drop: String,
}

impl RoundStatements {
    /// The session setting that names the current round.
    pub const SETTING: &'static str = "atomic_upsert.round";
    /// The session setting that limits the current round to its first rows.
    pub const UNTIL: &'static str = "atomic_upsert.until";

    /// The statements in `dialect`.
    #[must_use]
    pub fn of(dialect: &dyn Dialect) -> Self {
        let q = |name| dialect.quote_ident(name);
        let (stage, all, rounds, round, ord) = (
            q(names::STAGE_TABLE),
            q(names::ALL_ROWS),
            q(names::ROUNDS),
            q(names::ROUND),
            q(names::ORD_COLUMN),
        );
        let (setting, until, max) = (Self::SETTING, Self::UNTIL, i64::MAX);
        RoundStatements {
            // Indexed, so that each round reads its own rows only.
            keep: format!(
                "ALTER TABLE {stage} RENAME TO {all}; CREATE INDEX ON {all} ({ord}); \
                 CREATE INDEX ON {rounds} ({round}); ANALYZE {all}, {rounds}"
            ),
            view: format!(
                "CREATE TEMP VIEW {stage} AS SELECT \"a\".* FROM {all} AS \"a\" JOIN {rounds} AS \"r\" USING ({ord}) \
                 WHERE \"r\".{round} = pg_catalog.current_setting('{setting}')::int8 \
                 AND \"a\".{ord} <= coalesce(nullif(pg_catalog.current_setting('{until}', true), '')::int8, {max})"
            ),
            select: format!("SELECT pg_catalog.set_config('{setting}', $1, true)"),
            until: format!("SELECT pg_catalog.set_config('{until}', $1, true)"),
            ords: format!("SELECT {ord} FROM {rounds} WHERE {round} = $1 ORDER BY {ord}"),
            sizes: format!("SELECT {round}, count(*) FROM {rounds} GROUP BY 1 ORDER BY 1"),
            drop: format!("DROP VIEW {stage}; DROP TABLE {all}, {rounds}"),
        }
    }
}
