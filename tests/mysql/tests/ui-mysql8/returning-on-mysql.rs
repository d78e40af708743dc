use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::MySqlPool;

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "docs")]
struct Doc {
    #[conflict_key]
    id: i64,
    body: String,
}

async fn on_mysql(pool: MySqlPool, row: Doc) {
    // `upsert` runs on MySQL 8 and on MariaDB.
    let _ = row.upsert(&pool).await;
    // `RETURNING` is MariaDB's: without the `mariadb` feature, a compile error that says so.
    let _ = row.upsert_returning(&pool).await;
}

fn main() {
    let _ = on_mysql;
}
