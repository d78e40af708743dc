//! The conformance suite (`upsert-conformance`, written once against its `Backend` trait)
//! on a throwaway MariaDB: each fresh database is a database of its own on the test server.

use std::ops::{Deref, DerefMut};

use atomic_upsert::sqlx::mysql::{MySql, MySqlConnection, MySqlPool};
use atomic_upsert::sqlx::pool::PoolConnection;
use atomic_upsert::sqlx::{self, Executor as _};
use upsert_conformance::{
    Backend, a_dropped_call_leaves_the_pool_in_step, a_rejected_row_is_typed_and_loses_nothing,
    failures_are_typed_alike, race_is_exact_where_the_naive_pattern_fails,
    random_batches_equal_one_by_one,
};
use upsert_testkit::mysql::MyDb;

struct Maria;

/// A connection to a database of its own.
struct Fresh {
    conn: PoolConnection<MySql>,
    _db: MyDb,
}

impl Deref for Fresh {
    type Target = MySqlConnection;

    fn deref(&self) -> &MySqlConnection {
        &self.conn
    }
}

impl DerefMut for Fresh {
    fn deref_mut(&mut self) -> &mut MySqlConnection {
        &mut self.conn
    }
}

impl Backend for Maria {
    type Db = MySql;
    type Conn = Fresh;
    type Keep = MyDb;

    const STATS: &'static str =
        "CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY, runs bigint NOT NULL)";

    const STATS_CHECKED: &'static str = "CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY, \
        runs bigint NOT NULL, CONSTRAINT few_runs CHECK (runs <= 100))";

    /// The issue's bar: the seed's race on 16 connections.
    const WORKERS: u32 = 16;
    const STATS_ROWS: &'static str =
        "SELECT CONCAT(stats_type, ':', runs) FROM stats ORDER BY stats_type";

    const MIXED: &'static str = "CREATE TABLE mixed (k varchar(40) UNIQUE, v varchar(40), \
        n bigint NOT NULL, hi bigint, lo bigint, first varchar(40), c varchar(40), \
        updated_at datetime(6) NOT NULL)";

    const MIXED_ROWS: &'static str = "SELECT CONCAT_WS(',', QUOTE(k), QUOTE(v), n, QUOTE(hi), \
        QUOTE(lo), QUOTE(first), QUOTE(c)) AS r FROM mixed ORDER BY r";

    async fn fresh(&self, ddl: &str) -> Fresh {
        let db = MyDb::new(1).await;
        db.pool
            .execute(sqlx::AssertSqlSafe(ddl.to_owned()))
            .await
            .unwrap();
        let conn = db.pool.acquire().await.unwrap();
        Fresh { conn, _db: db }
    }

    async fn pool(&self, ddl: &str, connections: u32) -> (MySqlPool, MyDb) {
        let db = MyDb::new(connections).await;
        db.pool
            .execute(sqlx::AssertSqlSafe(ddl.to_owned()))
            .await
            .unwrap();
        (db.pool.clone(), db)
    }

    async fn naive_add(pool: &MySqlPool, key: &str) -> Result<(), String> {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let found: Option<i64> = sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = ?")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        tokio::task::yield_now().await;
        let sql = if found.is_some() {
            "UPDATE stats SET runs = runs + 1 WHERE stats_type = ?"
        } else {
            "INSERT INTO stats (stats_type, runs) VALUES (?, 1)"
        };
        sqlx::query(sql)
            .bind(key)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn stats(pool: &MySqlPool) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT stats_type, runs FROM stats ORDER BY stats_type")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    async fn rows(conn: &mut MySqlConnection, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(conn)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn random_batches_equal_one_by_one_on_mariadb() {
    random_batches_equal_one_by_one(&Maria, 0x5eed_0025, 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_race_is_exact_where_the_naive_pattern_fails_on_mariadb() {
    race_is_exact_where_the_naive_pattern_fails(&Maria).await;
}

#[tokio::test]
async fn a_rejected_row_is_typed_and_loses_nothing_on_mariadb() {
    a_rejected_row_is_typed_and_loses_nothing(&Maria).await;
}

#[tokio::test]
async fn a_dropped_call_leaves_the_pool_in_step_on_mariadb() {
    a_dropped_call_leaves_the_pool_in_step(&Maria).await;
}

#[tokio::test]
async fn failures_are_typed_alike_on_mariadb() {
    failures_are_typed_alike(&Maria).await;
}
