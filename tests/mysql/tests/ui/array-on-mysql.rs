use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::MySqlPool;

#[derive(AtomicUpsert)]
#[upsert(table = "posts")]
struct Post {
    #[conflict_key]
    id: i64,
    tags: Vec<String>,
}

async fn on_mysql(pool: MySqlPool) {
    let _ = Post { id: 1, tags: vec![] }.upsert(&pool).await;
}

fn main() {
    let _ = on_mysql;
}
