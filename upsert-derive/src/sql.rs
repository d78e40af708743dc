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
    let mut sql = String::from("INSERT INTO ");
    if let Some(schema) = table.schema {
        dialect.quote_into(&mut sql, schema);
        sql.push('.');
    }
    dialect.quote_into(&mut sql, table.name);

    sql.push_str(" (");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        dialect.quote_into(&mut sql, column.name);
    }
    sql.push_str(") VALUES (");
    let mut next_param = 0;
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        match column.insert {
            Insert::Bind => {
                next_param += 1;
                dialect.placeholder_into(&mut sql, next_param);
            }
            Insert::Now => sql.push_str("now()"),
        }
    }

    sql.push_str(") ON CONFLICT (");
    let keys = columns.iter().filter(|column| column.update == Update::Key);
    for (i, column) in keys.enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        dialect.quote_into(&mut sql, column.name);
    }
    sql.push(')');

    let updates: Vec<&Column> = columns
        .iter()
        .filter(|column| matches!(column.update, Update::Replace | Update::Now))
        .collect();
    if on_conflict == OnConflict::Nothing || updates.is_empty() {
        sql.push_str(" DO NOTHING");
    } else {
        sql.push_str(" DO UPDATE SET ");
        for (i, column) in updates.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            dialect.quote_into(&mut sql, column.name);
            sql.push_str(" = ");
            if column.update == Update::Now {
                sql.push_str("now()");
            } else {
                sql.push_str("EXCLUDED.");
                dialect.quote_into(&mut sql, column.name);
            }
        }
    }
    sql.push_str(" RETURNING (xmax = 0)");
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
