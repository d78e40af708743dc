//! Pure SQL building: a model of plain strings in, statement text out. No syn, no spans.
//!
//! The dialect is a parameter so that a second backend adds a variant, not a rewrite.

use std::fmt::Write as _;

/// The SQL dialect to emit.
#[derive(Clone, Copy, Debug)]
pub enum Dialect {
    /// PostgreSQL 9.5+ (`INSERT .. ON CONFLICT`, `$n` placeholders).
    Postgres,
}

/// The target table.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    pub schema: Option<&'a str>,
    pub name: &'a str,
}

/// What a column receives when the row is inserted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Insert {
    /// The next bound parameter.
    Bind,
    /// The server's `now()`.
    Now,
}

/// What a column receives when the row already exists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Update {
    /// Part of the conflict target.
    Key,
    /// Left as stored.
    Keep,
    /// Replaced by the incoming value (`EXCLUDED.c`).
    Replace,
    /// Set to the server's `now()`.
    Now,
    /// `stored + EXCLUDED.c`.
    Add,
    /// `GREATEST(stored, EXCLUDED.c)`.
    Greatest,
    /// `LEAST(stored, EXCLUDED.c)`.
    Least,
    /// `COALESCE(EXCLUDED.c, stored)`: a NULL never overwrites.
    Coalesce,
    /// jsonb `stored || EXCLUDED.c`, keeping either side when the other is NULL.
    Merge,
}

impl Update {
    /// Whether the column is assigned in `DO UPDATE SET`.
    fn is_set(self) -> bool {
        !matches!(self, Update::Key | Update::Keep)
    }

    /// Whether `skip_unchanged` compares the column (a timestamp always moves).
    fn is_compared(self) -> bool {
        self.is_set() && self != Update::Now
    }
}

/// One written column.
pub struct Column<'a> {
    pub name: &'a str,
    pub insert: Insert,
    pub update: Update,
}

/// The conflict target.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// `ON CONFLICT (keys)`, with the predicate of a partial unique index if any.
    Keys { predicate: Option<&'a str> },
    /// `ON CONFLICT ON CONSTRAINT name`.
    Constraint(&'a str),
}

/// Conditions under which an existing row is updated; all must hold.
#[derive(Clone, Copy, Debug, Default)]
pub struct Guard<'a> {
    /// The version column: update only when the incoming value is greater.
    pub version: Option<&'a str>,
    /// A raw SQL predicate (`update_where`).
    pub update_where: Option<&'a str>,
    /// Update only when some compared column would change.
    pub skip_unchanged: bool,
}

impl Guard<'_> {
    /// Whether an existing row can be left unwritten by a guard.
    pub fn any(&self) -> bool {
        self.version.is_some() || self.update_where.is_some() || self.skip_unchanged
    }
}

/// Everything a statement is built from.
pub struct Model<'a> {
    pub table: Table<'a>,
    pub columns: &'a [Column<'a>],
    pub target: Target<'a>,
    pub guard: Guard<'a>,
}

impl<'a> Model<'a> {
    /// The conflict-key columns, in order.
    fn keys(&self) -> Vec<&Column<'a>> {
        self.columns
            .iter()
            .filter(|c| c.update == Update::Key)
            .collect()
    }

    /// The columns sent as parameters, in parameter order.
    fn bound(&self) -> Vec<&Column<'a>> {
        self.columns
            .iter()
            .filter(|c| c.insert == Insert::Bind)
            .collect()
    }
}

/// What to do when the key exists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OnConflict {
    Update,
    Nothing,
}

impl Dialect {
    /// Writes `ident` quoted: `"a""b"` for `a"b`.
    fn quote_into(self, out: &mut String, ident: &str) {
        match self {
            Dialect::Postgres => {
                out.push('"');
                out.push_str(&ident.replace('"', "\"\""));
                out.push('"');
            }
        }
    }

    fn placeholder_into(self, out: &mut String, n: usize) {
        match self {
            Dialect::Postgres => {
                let _ = write!(out, "${n}");
            }
        }
    }

    /// `$1, $2, .., $n`
    fn placeholders_into(self, out: &mut String, n: usize) {
        let params: Vec<usize> = (1..=n).collect();
        join_into(out, &params, |out, n| self.placeholder_into(out, *n));
    }
}

/// `INSERT .. ON CONFLICT .. DO UPDATE SET .. [WHERE guard]` (or `DO NOTHING` when no
/// column is updatable), returning `(xmax = 0)`: true for an insert, false for an update.
///
/// With `skip_unchanged` beside a `version` or `update_where` guard, an unwritten row can
/// be stale or unchanged; the statement then also returns one NULL row when the stored
/// row (as the statement's snapshot sees it) already holds every incoming value:
///
/// ```sql
/// WITH "__written" AS (<upsert> RETURNING (xmax = 0) AS "inserted")
/// SELECT "inserted" FROM "__written" UNION ALL
/// SELECT NULL FROM (VALUES ($1, ..)) AS "excluded"(<bound columns>)
/// WHERE NOT EXISTS (SELECT FROM "__written")
///   AND EXISTS (SELECT FROM <table> WHERE <key matches> AND NOT <changed>)
/// ```
pub fn upsert(dialect: Dialect, model: &Model) -> String {
    let guard = model.guard;
    let ambiguous =
        guard.skip_unchanged && (guard.version.is_some() || guard.update_where.is_some());
    if !ambiguous || !has_updates(model.columns) {
        let mut sql = statement(dialect, model, OnConflict::Update);
        sql.push_str(" RETURNING (xmax = 0)");
        return sql;
    }
    let mut sql = String::from("WITH \"__written\" AS (");
    sql.push_str(&statement(dialect, model, OnConflict::Update));
    sql.push_str(
        " RETURNING (xmax = 0) AS \"inserted\") SELECT \"inserted\" FROM \"__written\" \
         UNION ALL SELECT NULL FROM (VALUES (",
    );
    let bound = model.bound();
    dialect.placeholders_into(&mut sql, bound.len());
    sql.push_str(")) AS \"excluded\"(");
    join_into(&mut sql, &bound, |sql, c| dialect.quote_into(sql, c.name));
    sql.push_str(") WHERE NOT EXISTS (SELECT FROM \"__written\") AND EXISTS (SELECT FROM ");
    qualified_table_into(dialect, &mut sql, &model.table);
    // Unqualified names in the subquery resolve to the table first: the key match and an
    // index predicate cannot clash with the `excluded` row's columns.
    sql.push_str(" WHERE (");
    let keys = model.keys();
    join_into(&mut sql, &keys, |sql, c| {
        stored_into(dialect, sql, &model.table, c.name);
    });
    sql.push_str(") = (");
    join_into(&mut sql, &keys, |sql, c| {
        excluded_into(dialect, sql, c.name);
    });
    sql.push(')');
    if let Target::Keys {
        predicate: Some(predicate),
    } = model.target
    {
        let _ = write!(sql, " AND ({predicate})");
    }
    sql.push_str(" AND NOT ");
    changed_into(dialect, &mut sql, model);
    sql.push(')');
    sql
}

/// The upsert returning the stored row's `columns`, in order.
pub fn upsert_returning(dialect: Dialect, model: &Model, columns: &[&str]) -> String {
    let mut sql = statement(dialect, model, OnConflict::Update);
    sql.push_str(" RETURNING ");
    join_into(&mut sql, columns, |sql, column| {
        dialect.quote_into(sql, column);
    });
    sql
}

/// `INSERT .. ON CONFLICT .. DO NOTHING`, returning `(xmax = 0)` for an inserted row.
pub fn insert_or_ignore(dialect: Dialect, model: &Model) -> String {
    let mut sql = statement(dialect, model, OnConflict::Nothing);
    sql.push_str(" RETURNING (xmax = 0)");
    sql
}

fn statement(dialect: Dialect, model: &Model, on_conflict: OnConflict) -> String {
    let mut sql = String::new();
    insert_into(dialect, &mut sql, &model.table, model.columns);
    sql.push_str(" VALUES (");
    let mut next_param = 0;
    join_into(&mut sql, model.columns, |sql, column| match column.insert {
        Insert::Bind => {
            next_param += 1;
            dialect.placeholder_into(sql, next_param);
        }
        Insert::Now => sql.push_str("now()"),
    });
    sql.push(')');
    conflict_clause(dialect, &mut sql, model, on_conflict);
    sql
}

/// `INSERT INTO "schema"."table" ("a", "b")`
fn insert_into(dialect: Dialect, sql: &mut String, table: &Table, columns: &[Column]) {
    sql.push_str("INSERT INTO ");
    qualified_table_into(dialect, sql, table);
    sql.push_str(" (");
    join_into(sql, columns, |sql, column| {
        dialect.quote_into(sql, column.name);
    });
    sql.push(')');
}

fn qualified_table_into(dialect: Dialect, sql: &mut String, table: &Table) {
    if let Some(schema) = table.schema {
        dialect.quote_into(sql, schema);
        sql.push('.');
    }
    dialect.quote_into(sql, table.name);
}

/// The stored value of `column`: `"table"."column"` (the target's name is its reference
/// in `DO UPDATE`, which is also how an `update_where` predicate names it).
fn stored_into(dialect: Dialect, sql: &mut String, table: &Table, column: &str) {
    dialect.quote_into(sql, table.name);
    sql.push('.');
    dialect.quote_into(sql, column);
}

fn excluded_into(dialect: Dialect, sql: &mut String, column: &str) {
    sql.push_str("EXCLUDED.");
    dialect.quote_into(sql, column);
}

/// The value `column` takes on conflict (for a key or `insert_only` column: the stored one).
fn set_value_into(dialect: Dialect, sql: &mut String, table: &Table, column: &Column) {
    let mut stored = String::new();
    stored_into(dialect, &mut stored, table, column.name);
    let mut excluded = String::new();
    excluded_into(dialect, &mut excluded, column.name);
    let _ = match column.update {
        Update::Key | Update::Keep => write!(sql, "{stored}"),
        Update::Now => write!(sql, "now()"),
        Update::Replace => write!(sql, "{excluded}"),
        Update::Add => write!(sql, "{stored} + {excluded}"),
        Update::Greatest => write!(sql, "GREATEST({stored}, {excluded})"),
        Update::Least => write!(sql, "LEAST({stored}, {excluded})"),
        Update::Coalesce => write!(sql, "COALESCE({excluded}, {stored})"),
        // `||` yields NULL when either side is NULL: keep the other side then.
        Update::Merge => write!(
            sql,
            "COALESCE({stored} || {excluded}, {excluded}, {stored})"
        ),
    };
}

/// `("t"."a", ..) IS DISTINCT FROM (<new a>, ..)` over the compared columns: whether the
/// update would change anything (`skip_unchanged`).
fn changed_into(dialect: Dialect, sql: &mut String, model: &Model) {
    let compared: Vec<&Column> = model
        .columns
        .iter()
        .filter(|c| c.update.is_compared())
        .collect();
    sql.push('(');
    join_into(sql, &compared, |sql, column| {
        stored_into(dialect, sql, &model.table, column.name);
    });
    sql.push_str(") IS DISTINCT FROM (");
    join_into(sql, &compared, |sql, column| {
        set_value_into(dialect, sql, &model.table, column);
    });
    sql.push(')');
}

/// ` ON CONFLICT (..) DO UPDATE SET .. [WHERE ..]`, or ` .. DO NOTHING`.
fn conflict_clause(dialect: Dialect, sql: &mut String, model: &Model, on_conflict: OnConflict) {
    let columns = model.columns;
    sql.push_str(" ON CONFLICT ");
    match model.target {
        Target::Keys { predicate } => {
            sql.push('(');
            join_into(sql, &model.keys(), |sql, column| {
                dialect.quote_into(sql, column.name);
            });
            sql.push(')');
            if let Some(predicate) = predicate {
                let _ = write!(sql, " WHERE ({predicate})");
            }
        }
        Target::Constraint(name) => {
            sql.push_str("ON CONSTRAINT ");
            dialect.quote_into(sql, name);
        }
    }
    let updates: Vec<&Column> = columns.iter().filter(|c| c.update.is_set()).collect();
    if on_conflict == OnConflict::Nothing || updates.is_empty() {
        sql.push_str(" DO NOTHING");
        return;
    }
    sql.push_str(" DO UPDATE SET ");
    join_into(sql, &updates, |sql, column| {
        dialect.quote_into(sql, column.name);
        sql.push_str(" = ");
        set_value_into(dialect, sql, &model.table, column);
    });
    let mut conditions: Vec<String> = Vec::new();
    if let Some(version) = model.guard.version {
        let mut condition = String::new();
        excluded_into(dialect, &mut condition, version);
        condition.push_str(" > ");
        stored_into(dialect, &mut condition, &model.table, version);
        conditions.push(condition);
    }
    if let Some(predicate) = model.guard.update_where {
        conditions.push(format!("({predicate})"));
    }
    if model.guard.skip_unchanged {
        let mut condition = String::new();
        changed_into(dialect, &mut condition, model);
        conditions.push(condition);
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
}

/// Writes `items` separated by `, `.
fn join_into<T>(sql: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        each(sql, item);
    }
}

/// Whether the upsert updates anything on conflict (else it is `DO NOTHING`).
pub fn has_updates(columns: &[Column]) -> bool {
    columns.iter().any(|c| c.update.is_set())
}

/// The name of the ordinal column that records each batch row's position.
pub const ORD_COLUMN: &str = "__atomic_upsert_ord";
/// The temporary table the COPY path loads.
pub const STAGE_TABLE: &str = "__atomic_upsert_stage";

/// Where a bulk statement reads its rows from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// One array parameter per bound column, `UNNEST($1, $2, ..) WITH ORDINALITY`.
    Unnest,
    /// The temporary table loaded by `COPY`, with the ordinal column.
    Stage,
}

/// The bulk upsert. It folds each key's rows into one, as applying them one by one in
/// order would: the last row's values, the first row's `insert_only` values, the sum of
/// `add` columns, the greatest/least, the last non-NULL `coalesce` value, the `merge`
/// of every object in order; under a `version` guard, only the rows that would have
/// applied (a version above every earlier one and above the stored one) take part and
/// the row with the highest version wins. It writes in key order, so that concurrent
/// batches lock rows in the same order, and returns one row of counts.
///
/// Unguarded: distinct keys, inserted, updated. Guarded: written keys, inserted, and the
/// number of batch rows that applied to the written keys.
pub fn upsert_many(dialect: Dialect, model: &Model, source: Source) -> String {
    let bulk = Bulk::new(dialect, model);
    let mut sql = String::new();
    bulk.input_cte(&mut sql, source);
    let rows_from = if let Some(version) = model.guard.version {
        bulk.ranked_cte(&mut sql, version);
        "\"__ranked\""
    } else {
        "\"__input\""
    };
    bulk.dedup_cte(&mut sql, rows_from);
    bulk.written_cte(&mut sql);
    bulk.counts(&mut sql);
    sql
}

/// The pieces of [`upsert_many`]'s statement.
struct Bulk<'m, 'a> {
    dialect: Dialect,
    model: &'m Model<'a>,
    keys: Vec<&'m Column<'a>>,
    /// `"k1", "k2"`
    key_list: String,
    /// The quoted ordinal column.
    ord: String,
    /// `PARTITION BY "k1", "k2"`
    partition: String,
    /// ` FILTER (WHERE "__applies")` under a version guard, else empty.
    applies_filter: &'static str,
}

impl<'m, 'a> Bulk<'m, 'a> {
    fn new(dialect: Dialect, model: &'m Model<'a>) -> Self {
        let keys = model.keys();
        let mut key_list = String::new();
        join_into(&mut key_list, &keys, |sql, c| {
            dialect.quote_into(sql, c.name);
        });
        let mut ord = String::new();
        dialect.quote_into(&mut ord, ORD_COLUMN);
        let partition = format!("PARTITION BY {key_list}");
        let applies_filter = if model.guard.version.is_some() {
            " FILTER (WHERE \"__applies\")"
        } else {
            ""
        };
        Bulk {
            dialect,
            model,
            keys,
            key_list,
            ord,
            partition,
            applies_filter,
        }
    }

    fn quoted(&self, name: &str) -> String {
        let mut quoted = String::new();
        self.dialect.quote_into(&mut quoted, name);
        quoted
    }

    /// `WITH "__input" AS (..)`: the batch rows with their ordinal.
    fn input_cte(&self, sql: &mut String, source: Source) {
        let ord = &self.ord;
        sql.push_str("WITH \"__input\" AS (SELECT * FROM ");
        match source {
            Source::Unnest => {
                let bound = self.model.bound();
                sql.push_str("UNNEST(");
                self.dialect.placeholders_into(sql, bound.len());
                sql.push_str(") WITH ORDINALITY AS \"__u\"(");
                join_into(sql, &bound, |sql, c| self.dialect.quote_into(sql, c.name));
                let _ = write!(sql, ", {ord})");
            }
            Source::Stage => self.dialect.quote_into(sql, STAGE_TABLE),
        }
        sql.push(')');
    }

    /// `, "__ranked" AS (..)`: each row flagged `"__applies"` when its version beats every
    /// earlier row of its key and the stored row (as this statement's snapshot sees it;
    /// the write itself re-checks against the locked row).
    fn ranked_cte(&self, sql: &mut String, version: &str) {
        let (v, ord, partition, key_list) = (
            self.quoted(version),
            &self.ord,
            &self.partition,
            &self.key_list,
        );
        let _ = write!(
            sql,
            ", \"__ranked\" AS (SELECT *, ({v} > GREATEST(max({v}) OVER ({partition} ORDER BY {ord} \
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), (SELECT {v} FROM "
        );
        qualified_table_into(self.dialect, sql, &self.model.table);
        let _ = write!(sql, " WHERE ({key_list}) = (");
        join_into(sql, &self.keys, |sql, c| {
            sql.push_str("\"__input\".");
            self.dialect.quote_into(sql, c.name);
        });
        sql.push(')');
        if let Target::Keys {
            predicate: Some(predicate),
        } = self.model.target
        {
            let _ = write!(sql, " AND ({predicate})");
        }
        sql.push_str(" LIMIT 1))) IS NOT FALSE AS \"__applies\" FROM \"__input\")");
    }

    /// `, "__dedup" AS (..)`: one row per key, each column folded by its strategy.
    fn dedup_cte(&self, sql: &mut String, rows_from: &str) {
        let (key_list, ord, partition) = (&self.key_list, &self.ord, &self.partition);
        let _ = write!(sql, ", \"__dedup\" AS (SELECT DISTINCT ON ({key_list}) ");
        join_into(sql, &self.model.bound(), |sql, c| self.fold_into(sql, c));
        if self.model.guard.any() {
            let _ = write!(
                sql,
                ", count(*){} OVER ({partition}) AS \"__applied\"",
                self.applies_filter
            );
        }
        let _ = write!(sql, " FROM {rows_from} ORDER BY {key_list}, ");
        if let Some(version) = self.model.guard.version {
            // The highest version wins; among equal ones the first (a later equal one is stale).
            self.dialect.quote_into(sql, version);
            let _ = write!(sql, " DESC NULLS LAST, {ord})");
        } else {
            let _ = write!(sql, "{ord} DESC)");
        }
    }

    /// One column of `"__dedup"`: the value applying the key's rows one by one would leave.
    /// Replaced columns take the DISTINCT ON row (the last, or the highest version).
    fn fold_into(&self, sql: &mut String, column: &Column) {
        let (ord, partition, filter) = (&self.ord, &self.partition, self.applies_filter);
        let versioned = self.model.guard.version.is_some();
        let name = self.quoted(column.name);
        let _ = match column.update {
            Update::Key | Update::Replace | Update::Now => write!(sql, "{name}"),
            // insert_only: the key's first row inserts; later rows never overwrite it.
            Update::Keep => write!(
                sql,
                "first_value({name}) OVER ({partition} ORDER BY {ord}) AS {name}"
            ),
            Update::Add => write!(sql, "sum({name}){filter} OVER ({partition}) AS {name}"),
            Update::Greatest => write!(sql, "max({name}){filter} OVER ({partition}) AS {name}"),
            Update::Least => write!(sql, "min({name}){filter} OVER ({partition}) AS {name}"),
            // The last non-NULL value (among the applying rows).
            Update::Coalesce => write!(
                sql,
                "first_value({name}) OVER ({partition} ORDER BY {}{name} IS NULL, {ord} DESC) AS {name}",
                if versioned { "NOT \"__applies\", " } else { "" }
            ),
            // Every non-NULL object in order; `written_cte` folds them.
            Update::Merge => write!(
                sql,
                "jsonb_agg({name}) FILTER (WHERE {name} IS NOT NULL{}) OVER ({partition} ORDER BY {ord} \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS {name}",
                if versioned { " AND \"__applies\"" } else { "" }
            ),
        };
    }

    /// `, "__written" AS (INSERT .. SELECT .. FROM "__dedup" ORDER BY key ON CONFLICT ..)`.
    fn written_cte(&self, sql: &mut String) {
        let model = self.model;
        sql.push_str(", \"__written\" AS (");
        insert_into(self.dialect, sql, &model.table, model.columns);
        sql.push_str(" SELECT ");
        join_into(sql, model.columns, |sql, c| match (c.insert, c.update) {
            (Insert::Now, _) => sql.push_str("now()"),
            (Insert::Bind, Update::Merge) => {
                // `a || b || c` of the key's objects: later keys win, as `||` would.
                let name = self.quoted(c.name);
                let _ = write!(
                    sql,
                    "CASE WHEN jsonb_array_length({name}) = 1 THEN {name} -> 0 WHEN {name} IS NOT NULL \
                     THEN coalesce((SELECT jsonb_object_agg(\"__e\".\"key\", \"__e\".\"value\" ORDER BY \"__a\".\"i\") \
                     FROM jsonb_array_elements({name}) WITH ORDINALITY AS \"__a\"(\"o\", \"i\"), \
                     jsonb_each(\"__a\".\"o\") AS \"__e\"), '{{}}') END"
                );
            }
            (Insert::Bind, _) => self.dialect.quote_into(sql, c.name),
        });
        sql.push_str(" FROM \"__dedup\"");
        if model.guard.version.is_some() {
            // A key none of whose rows beat the stored version is stale as a whole: the
            // stored version only grows, so the write would be refused anyway. Leaving it
            // out also keeps its (empty) folded values away from NOT NULL checks.
            sql.push_str(" WHERE \"__applied\" > 0");
        }
        // Key order: concurrent batches lock their rows in the same order: no deadlock.
        let _ = write!(sql, " ORDER BY {}", self.key_list);
        conflict_clause(self.dialect, sql, model, OnConflict::Update);
    }

    /// The closing `RETURNING` and the one row of counts.
    ///
    /// Unguarded: distinct keys, inserted, updated. With DO UPDATE every distinct key is
    /// written, so the distinct count is the written count; only DO NOTHING must count the
    /// deduplicated rows, which makes PostgreSQL materialize them. Read once, `__dedup` is
    /// inlined and its DISTINCT ON sort already yields key order: no second sort.
    ///
    /// Guarded: written keys, inserted keys, and the batch rows that applied to written
    /// keys (guards may leave keys unwritten).
    fn counts(&self, sql: &mut String) {
        if self.model.guard.any() {
            sql.push_str(" RETURNING ");
            join_into(sql, &self.keys, |sql, c| {
                self.dialect.quote_into(sql, c.name);
            });
            sql.push_str(
                ", (xmax = 0) AS \"__inserted\") SELECT count(*), \
                 count(*) FILTER (WHERE \"__w\".\"__inserted\"), \
                 coalesce(sum(\"__d\".\"__applied\"), 0)::int8 \
                 FROM \"__written\" AS \"__w\" JOIN \"__dedup\" AS \"__d\" ON (",
            );
            for (i, alias) in ["\"__w\".", "\"__d\"."].into_iter().enumerate() {
                if i > 0 {
                    sql.push_str(") = (");
                }
                join_into(sql, &self.keys, |sql, c| {
                    sql.push_str(alias);
                    self.dialect.quote_into(sql, c.name);
                });
            }
            sql.push(')');
            return;
        }
        sql.push_str(" RETURNING (xmax = 0) AS \"inserted\") SELECT ");
        if has_updates(self.model.columns) {
            sql.push_str("count(*)");
        } else {
            sql.push_str("(SELECT count(*) FROM \"__dedup\")");
        }
        sql.push_str(
            ", count(*) FILTER (WHERE \"inserted\"), count(*) FILTER (WHERE NOT \"inserted\") FROM \"__written\"",
        );
    }
}

/// `COPY` of the bound columns plus the ordinal into the stage table, binary format.
pub fn stage_copy(dialect: Dialect, columns: &[Column]) -> String {
    let mut sql = String::from("COPY ");
    dialect.quote_into(&mut sql, STAGE_TABLE);
    sql.push_str(" (");
    for column in columns.iter().filter(|c| c.insert == Insert::Bind) {
        dialect.quote_into(&mut sql, column.name);
        sql.push_str(", ");
    }
    dialect.quote_into(&mut sql, ORD_COLUMN);
    sql.push_str(") FROM STDIN (FORMAT binary)");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: Dialect = Dialect::Postgres;

    fn model<'a>(table: Table<'a>, columns: &'a [Column<'a>]) -> Model<'a> {
        Model {
            table,
            columns,
            target: Target::Keys { predicate: None },
            guard: Guard::default(),
        }
    }

    fn col(name: &str, insert: Insert, update: Update) -> Column<'_> {
        Column {
            name,
            insert,
            update,
        }
    }

    #[test]
    fn replace_every_non_key_column() {
        let table = Table {
            schema: None,
            name: "strava_stats",
        };
        let columns = [
            col("stats_type", Insert::Bind, Update::Key),
            col("data", Insert::Bind, Update::Replace),
        ];
        assert_eq!(
            upsert(PG, &model(table, &columns)),
            r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data" RETURNING (xmax = 0)"#
        );
        assert_eq!(
            insert_or_ignore(PG, &model(table, &columns)),
            r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO NOTHING RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn schema_composite_key_and_timestamps() {
        let table = Table {
            schema: Some("app"),
            name: "totals",
        };
        let columns = [
            col("athlete", Insert::Bind, Update::Key),
            col("first_seen", Insert::Bind, Update::Keep),
            col("day", Insert::Bind, Update::Key),
            col("created_at", Insert::Now, Update::Keep),
            col("updated_at", Insert::Now, Update::Now),
            col("km", Insert::Bind, Update::Replace),
        ];
        assert_eq!(
            upsert(PG, &model(table, &columns)),
            r#"INSERT INTO "app"."totals" ("athlete", "first_seen", "day", "created_at", "updated_at", "km") VALUES ($1, $2, $3, now(), now(), $4) ON CONFLICT ("athlete", "day") DO UPDATE SET "updated_at" = now(), "km" = EXCLUDED."km" RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn identifiers_are_quoted_with_embedded_quotes_doubled() {
        let table = Table {
            schema: Some("my\"schema"),
            name: "order",
        };
        let columns = [
            col("user", Insert::Bind, Update::Key),
            col("group", Insert::Bind, Update::Replace),
            col("we\"ird", Insert::Bind, Update::Replace),
        ];
        assert_eq!(
            upsert(PG, &model(table, &columns)),
            r#"INSERT INTO "my""schema"."order" ("user", "group", "we""ird") VALUES ($1, $2, $3) ON CONFLICT ("user") DO UPDATE SET "group" = EXCLUDED."group", "we""ird" = EXCLUDED."we""ird" RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn bulk_statement_dedups_orders_and_counts() {
        let table = Table {
            schema: None,
            name: "t",
        };
        let columns = [
            col("k", Insert::Bind, Update::Key),
            col("first", Insert::Bind, Update::Keep),
            col("v", Insert::Bind, Update::Replace),
            col("updated_at", Insert::Now, Update::Now),
        ];
        assert_eq!(
            upsert_many(PG, &model(table, &columns), Source::Unnest),
            concat!(
                r#"WITH "__input" AS (SELECT * FROM UNNEST($1, $2, $3) WITH ORDINALITY AS "__u"("k", "first", "v", "__atomic_upsert_ord")), "#,
                r#""__dedup" AS (SELECT DISTINCT ON ("k") "k", first_value("first") OVER (PARTITION BY "k" ORDER BY "__atomic_upsert_ord") AS "first", "v" FROM "__input" ORDER BY "k", "__atomic_upsert_ord" DESC), "#,
                r#""__written" AS (INSERT INTO "t" ("k", "first", "v", "updated_at") SELECT "k", "first", "v", now() FROM "__dedup" ORDER BY "k" ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v", "updated_at" = now() RETURNING (xmax = 0) AS "inserted") "#,
                r#"SELECT count(*), count(*) FILTER (WHERE "inserted"), count(*) FILTER (WHERE NOT "inserted") FROM "__written""#
            )
        );
        assert!(
            upsert_many(PG, &model(table, &columns), Source::Stage)
                .starts_with(r#"WITH "__input" AS (SELECT * FROM "__atomic_upsert_stage"), "#)
        );
        assert_eq!(
            stage_copy(PG, &columns),
            r#"COPY "__atomic_upsert_stage" ("k", "first", "v", "__atomic_upsert_ord") FROM STDIN (FORMAT binary)"#
        );
    }

    #[test]
    fn nothing_to_update_means_do_nothing() {
        let table = Table {
            schema: None,
            name: "tag_link",
        };
        let columns = [
            col("post", Insert::Bind, Update::Key),
            col("tag", Insert::Bind, Update::Key),
            col("created_at", Insert::Now, Update::Keep),
        ];
        assert_eq!(
            upsert(PG, &model(table, &columns)),
            r#"INSERT INTO "tag_link" ("post", "tag", "created_at") VALUES ($1, $2, now()) ON CONFLICT ("post", "tag") DO NOTHING RETURNING (xmax = 0)"#
        );
    }

    #[test]
    fn strategies_combine_stored_and_excluded() {
        let table = Table {
            schema: Some("app"),
            name: "athlete",
        };
        let columns = [
            col("id", Insert::Bind, Update::Key),
            col("rides", Insert::Bind, Update::Add),
            col("longest", Insert::Bind, Update::Greatest),
            col("first", Insert::Bind, Update::Least),
            col("city", Insert::Bind, Update::Coalesce),
            col("gear", Insert::Bind, Update::Merge),
        ];
        assert_eq!(
            upsert(PG, &model(table, &columns)),
            concat!(
                r#"INSERT INTO "app"."athlete" ("id", "rides", "longest", "first", "city", "gear") VALUES ($1, $2, $3, $4, $5, $6) "#,
                r#"ON CONFLICT ("id") DO UPDATE SET "rides" = "athlete"."rides" + EXCLUDED."rides", "#,
                r#""longest" = GREATEST("athlete"."longest", EXCLUDED."longest"), "#,
                r#""first" = LEAST("athlete"."first", EXCLUDED."first"), "#,
                r#""city" = COALESCE(EXCLUDED."city", "athlete"."city"), "#,
                r#""gear" = COALESCE("athlete"."gear" || EXCLUDED."gear", EXCLUDED."gear", "athlete"."gear") "#,
                r#"RETURNING (xmax = 0)"#
            )
        );
    }

    #[test]
    fn guards_are_anded_in_the_update_where() {
        let table = Table {
            schema: None,
            name: "state",
        };
        let columns = [
            col("k", Insert::Bind, Update::Key),
            col("v", Insert::Bind, Update::Replace),
            col("n", Insert::Bind, Update::Add),
            col("updated_at", Insert::Now, Update::Now),
        ];
        let mut model = model(table, &columns);
        model.guard = Guard {
            version: Some("v"),
            update_where: Some("NOT state.frozen"),
            skip_unchanged: true,
        };
        assert_eq!(
            upsert(PG, &model),
            concat!(
                r#"WITH "__written" AS ("#,
                r#"INSERT INTO "state" ("k", "v", "n", "updated_at") VALUES ($1, $2, $3, now()) "#,
                r#"ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v", "n" = "state"."n" + EXCLUDED."n", "updated_at" = now() "#,
                r#"WHERE EXCLUDED."v" > "state"."v" AND (NOT state.frozen) "#,
                r#"AND ("state"."v", "state"."n") IS DISTINCT FROM (EXCLUDED."v", "state"."n" + EXCLUDED."n") "#,
                r#"RETURNING (xmax = 0) AS "inserted") SELECT "inserted" FROM "__written" "#,
                r#"UNION ALL SELECT NULL FROM (VALUES ($1, $2, $3)) AS "excluded"("k", "v", "n") "#,
                r#"WHERE NOT EXISTS (SELECT FROM "__written") AND EXISTS (SELECT FROM "state" "#,
                r#"WHERE ("state"."k") = (EXCLUDED."k") "#,
                r#"AND NOT ("state"."v", "state"."n") IS DISTINCT FROM (EXCLUDED."v", "state"."n" + EXCLUDED."n"))"#
            )
        );
        model.guard.skip_unchanged = false;
        assert!(upsert(PG, &model).starts_with("INSERT INTO"));
        let many = upsert_many(PG, &model, Source::Unnest);
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
    }

    #[test]
    fn conflict_targets_and_returning() {
        let table = Table {
            schema: None,
            name: "users",
        };
        let columns = [
            col("email", Insert::Bind, Update::Key),
            col("name", Insert::Bind, Update::Replace),
        ];
        let mut partial = model(table, &columns);
        partial.target = Target::Keys {
            predicate: Some("NOT deleted"),
        };
        assert_eq!(
            insert_or_ignore(PG, &partial),
            r#"INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") WHERE (NOT deleted) DO NOTHING RETURNING (xmax = 0)"#
        );
        let mut constraint = model(table, &columns);
        constraint.target = Target::Constraint("users_email_key");
        assert_eq!(
            upsert_returning(PG, &constraint, &["id", "email", "name"]),
            r#"INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ON CONSTRAINT "users_email_key" DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id", "email", "name""#
        );
    }
}
