//! The conformance suite (`upsert-conformance`, written once against its `Backend` trait)
//! on PostgreSQL: each fresh database is a schema of its own on the test server.

use std::ops::{Deref, DerefMut};

use atomic_upsert::sqlx::pool::PoolConnection;
use atomic_upsert::sqlx::{self, PgConnection, PgPool, Postgres};
use upsert_conformance::{
    Backend, a_dropped_call_leaves_the_pool_in_step, a_rejected_row_is_typed_and_loses_nothing,
    failures_are_typed_alike, race_is_exact_where_the_naive_pattern_fails,
    random_batches_equal_one_by_one,
};
use upsert_testkit::TestDb;

struct Pg;

/// A connection to a schema of its own (kept until the test server goes: it holds what a
/// failed check leaves for reading).
struct Fresh {
    conn: PoolConnection<Postgres>,
    _db: TestDb,
}

impl Deref for Fresh {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Fresh {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl Backend for Pg {
    type Db = Postgres;
    type Conn = Fresh;
    type Keep = TestDb;

    const STATS: &'static str =
        "CREATE TABLE stats (stats_type text PRIMARY KEY, runs int8 NOT NULL)";

    const STATS_CHECKED: &'static str = "CREATE TABLE stats (stats_type text PRIMARY KEY, \
        runs int8 NOT NULL CHECK (runs <= 100))";

    const STATS_ROWS: &'static str =
        "SELECT stats_type || ':' || runs FROM stats ORDER BY stats_type";

    const MIXED: &'static str = "CREATE TABLE mixed (k text UNIQUE, v text, n int8 NOT NULL, \
        hi int8, lo int8, first text, c text, updated_at timestamptz NOT NULL)";

    const MIXED_ROWS: &'static str = "SELECT concat_ws(',', quote_nullable(k), \
        quote_nullable(v), n, quote_nullable(hi), quote_nullable(lo), quote_nullable(first), \
        quote_nullable(c)) FROM mixed ORDER BY 1";

    async fn fresh(&self, ddl: &str) -> Fresh {
        let db = TestDb::new(1).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_owned()))
            .execute(&db.pool)
            .await
            .unwrap();
        let conn = db.pool.acquire().await.unwrap();
        Fresh { conn, _db: db }
    }

    async fn pool(&self, ddl: &str, connections: u32) -> (PgPool, TestDb) {
        let db = TestDb::new(connections).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_owned()))
            .execute(&db.pool)
            .await
            .unwrap();
        (db.pool.clone(), db)
    }

    async fn naive_add(pool: &PgPool, key: &str) -> Result<(), String> {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let found: Option<i64> = sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        tokio::task::yield_now().await;
        let sql = if found.is_some() {
            "UPDATE stats SET runs = runs + 1 WHERE stats_type = $1"
        } else {
            "INSERT INTO stats (stats_type, runs) VALUES ($1, 1)"
        };
        sqlx::query(sql)
            .bind(key)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn stats(pool: &PgPool) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT stats_type, runs FROM stats ORDER BY stats_type")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    async fn rows(conn: &mut PgConnection, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(conn)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn random_batches_equal_one_by_one_on_postgres() {
    random_batches_equal_one_by_one(&Pg, 0x5eed_0013, 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_race_is_exact_where_the_naive_pattern_fails_on_postgres() {
    race_is_exact_where_the_naive_pattern_fails(&Pg).await;
}

#[tokio::test]
async fn a_rejected_row_is_typed_and_loses_nothing_on_postgres() {
    a_rejected_row_is_typed_and_loses_nothing(&Pg).await;
}

#[tokio::test]
async fn a_dropped_call_leaves_the_pool_in_step_on_postgres() {
    a_dropped_call_leaves_the_pool_in_step(&Pg).await;
}

#[tokio::test]
async fn failures_are_typed_alike_on_postgres() {
    failures_are_typed_alike(&Pg).await;
}
