use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::MySqlPool;

#[derive(AtomicUpsert)]
#[upsert(table = "docs", update_where = "docs.v < EXCLUDED.v")]
struct Doc {
    #[conflict_key]
    id: i64,
    v: i64,
}

async fn on_mysql(pool: MySqlPool) {
    let _ = Doc::upsert_many(&pool, &[Doc { id: 1, v: 2 }]).await;
}

fn main() {
    let _ = on_mysql;
}
