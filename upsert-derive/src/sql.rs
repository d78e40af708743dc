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
}

/// One written column.
pub struct Column<'a> {
    pub name: &'a str,
    pub insert: Insert,
    pub update: Update,
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
}

/// `INSERT .. ON CONFLICT (key) DO UPDATE SET ..` (or `DO NOTHING` when no column is
/// updatable), returning `(xmax = 0)`: true for an insert, false for an update.
pub fn upsert(dialect: Dialect, table: &Table, columns: &[Column]) -> String {
    statement(dialect, table, columns, OnConflict::Update)
}

/// `INSERT .. ON CONFLICT (key) DO NOTHING`, returning `(xmax = 0)` for an inserted row.
pub fn insert_or_ignore(dialect: Dialect, table: &Table, columns: &[Column]) -> String {
    statement(dialect, table, columns, OnConflict::Nothing)
}

fn statement(
    dialect: Dialect,
    table: &Table,
    columns: &[Column],
    on_conflict: OnConflict,
) -> String {
    let mut sql = String::new();
    insert_into(dialect, &mut sql, table, columns);
    sql.push_str(" VALUES (");
    let mut next_param = 0;
    join_into(&mut sql, columns, |sql, column| match column.insert {
        Insert::Bind => {
            next_param += 1;
            dialect.placeholder_into(sql, next_param);
        }
        Insert::Now => sql.push_str("now()"),
    });
    sql.push(')');
    conflict_clause(dialect, &mut sql, columns, on_conflict);
    sql.push_str(" RETURNING (xmax = 0)");
    sql
}

/// `INSERT INTO "schema"."table" ("a", "b")`
fn insert_into(dialect: Dialect, sql: &mut String, table: &Table, columns: &[Column]) {
    sql.push_str("INSERT INTO ");
    if let Some(schema) = table.schema {
        dialect.quote_into(sql, schema);
        sql.push('.');
    }
    dialect.quote_into(sql, table.name);
    sql.push_str(" (");
    join_into(sql, columns, |sql, column| {
        dialect.quote_into(sql, column.name);
    });
    sql.push(')');
}

/// ` ON CONFLICT ("k") DO UPDATE SET ..`, or ` .. DO NOTHING` when nothing is updatable.
fn conflict_clause(
    dialect: Dialect,
    sql: &mut String,
    columns: &[Column],
    on_conflict: OnConflict,
) {
    sql.push_str(" ON CONFLICT (");
    let keys: Vec<&Column> = columns.iter().filter(|c| c.update == Update::Key).collect();
    join_into(sql, &keys, |sql, column| {
        dialect.quote_into(sql, column.name);
    });
    sql.push(')');
    let updates: Vec<&Column> = columns
        .iter()
        .filter(|column| matches!(column.update, Update::Replace | Update::Now))
        .collect();
    if on_conflict == OnConflict::Nothing || updates.is_empty() {
        sql.push_str(" DO NOTHING");
        return;
    }
    sql.push_str(" DO UPDATE SET ");
    join_into(sql, &updates, |sql, column| {
        dialect.quote_into(sql, column.name);
        sql.push_str(" = ");
        if column.update == Update::Now {
            sql.push_str("now()");
        } else {
            sql.push_str("EXCLUDED.");
            dialect.quote_into(sql, column.name);
        }
    });
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
    columns
        .iter()
        .any(|c| matches!(c.update, Update::Replace | Update::Now))
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

/// The bulk upsert: deduplicates the batch per key (last row wins; `insert_only` columns
/// take the first row's value, as one-by-one application would), writes in key order so
/// that concurrent batches lock rows in the same order, and returns one row of counts:
/// distinct keys, inserted, updated.
pub fn upsert_many(dialect: Dialect, table: &Table, columns: &[Column], source: Source) -> String {
    let bound: Vec<&Column> = columns
        .iter()
        .filter(|c| c.insert == Insert::Bind)
        .collect();
    let keys: Vec<&Column> = columns.iter().filter(|c| c.update == Update::Key).collect();
    let mut key_list = String::new();
    join_into(&mut key_list, &keys, |sql, c| {
        dialect.quote_into(sql, c.name);
    });
    let mut ord = String::new();
    dialect.quote_into(&mut ord, ORD_COLUMN);

    let mut sql = String::from("WITH \"__input\" AS (SELECT * FROM ");
    match source {
        Source::Unnest => {
            sql.push_str("UNNEST(");
            let params: Vec<usize> = (1..=bound.len()).collect();
            join_into(&mut sql, &params, |sql, n| {
                dialect.placeholder_into(sql, *n);
            });
            sql.push_str(") WITH ORDINALITY AS \"__u\"(");
            join_into(&mut sql, &bound, |sql, c| dialect.quote_into(sql, c.name));
            let _ = write!(sql, ", {ord})");
        }
        Source::Stage => dialect.quote_into(&mut sql, STAGE_TABLE),
    }
    let _ = write!(sql, "), \"__dedup\" AS (SELECT DISTINCT ON ({key_list}) ");
    join_into(&mut sql, &bound, |sql, c| {
        if c.update == Update::Keep {
            // insert_only: the key's first row inserts; later rows never overwrite it.
            sql.push_str("first_value(");
            dialect.quote_into(sql, c.name);
            let _ = write!(sql, ") OVER (PARTITION BY {key_list} ORDER BY {ord}) AS ");
        }
        dialect.quote_into(sql, c.name);
    });
    let _ = write!(
        sql,
        " FROM \"__input\" ORDER BY {key_list}, {ord} DESC), \"__written\" AS ("
    );
    insert_into(dialect, &mut sql, table, columns);
    sql.push_str(" SELECT ");
    join_into(&mut sql, columns, |sql, c| match c.insert {
        Insert::Bind => dialect.quote_into(sql, c.name),
        Insert::Now => sql.push_str("now()"),
    });
    // Key order: concurrent batches lock their rows in the same order and cannot deadlock.
    let _ = write!(sql, " FROM \"__dedup\" ORDER BY {key_list}");
    conflict_clause(dialect, &mut sql, columns, OnConflict::Update);
    // Counts: distinct keys, inserted, updated. With DO UPDATE every distinct key is
    // written, so the distinct count is the written count; only DO NOTHING must count the
    // deduplicated rows, which makes PostgreSQL materialize them. Read once, `__dedup` is
    // inlined and its DISTINCT ON sort already yields key order: no second sort.
    sql.push_str(" RETURNING (xmax = 0) AS \"inserted\") SELECT ");
    if has_updates(columns) {
        sql.push_str("count(*)");
    } else {
        sql.push_str("(SELECT count(*) FROM \"__dedup\")");
    }
    sql.push_str(
        ", count(*) FILTER (WHERE \"inserted\"), count(*) FILTER (WHERE NOT \"inserted\") FROM \"__written\"",
    );
    sql
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
            upsert(PG, &table, &columns),
            r#"INSERT INTO "strava_stats" ("stats_type", "data") VALUES ($1, $2) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data" RETURNING (xmax = 0)"#
        );
        assert_eq!(
            insert_or_ignore(PG, &table, &columns),
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
            upsert(PG, &table, &columns),
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
            upsert(PG, &table, &columns),
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
            upsert_many(PG, &table, &columns, Source::Unnest),
            concat!(
                r#"WITH "__input" AS (SELECT * FROM UNNEST($1, $2, $3) WITH ORDINALITY AS "__u"("k", "first", "v", "__atomic_upsert_ord")), "#,
                r#""__dedup" AS (SELECT DISTINCT ON ("k") "k", first_value("first") OVER (PARTITION BY "k" ORDER BY "__atomic_upsert_ord") AS "first", "v" FROM "__input" ORDER BY "k", "__atomic_upsert_ord" DESC), "#,
                r#""__written" AS (INSERT INTO "t" ("k", "first", "v", "updated_at") SELECT "k", "first", "v", now() FROM "__dedup" ORDER BY "k" ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v", "updated_at" = now() RETURNING (xmax = 0) AS "inserted") "#,
                r#"SELECT count(*), count(*) FILTER (WHERE "inserted"), count(*) FILTER (WHERE NOT "inserted") FROM "__written""#
            )
        );
        assert!(
            upsert_many(PG, &table, &columns, Source::Stage)
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
            upsert(PG, &table, &columns),
            r#"INSERT INTO "tag_link" ("post", "tag", "created_at") VALUES ($1, $2, now()) ON CONFLICT ("post", "tag") DO NOTHING RETURNING (xmax = 0)"#
        );
    }
}
