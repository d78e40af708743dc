//! The conformance suite (`upsert-conformance`, written once against its `Backend` trait)
//! on PostgreSQL: each fresh database is a schema of its own on the test server.

use std::ops::{Deref, DerefMut};

use atomic_upsert::sqlx::pool::PoolConnection;
use atomic_upsert::sqlx::{self, PgConnection, Postgres};
use upsert_conformance::{Backend, random_batches_equal_one_by_one};
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
