use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{MySqlPool, PgPool};
use atomic_upsert::sqlx::types::Json;

#[derive(AtomicUpsert)]
#[upsert(table = "profiles")]
struct Profile {
    #[conflict_key]
    id: i64,
    #[upsert(merge)]
    prefs: Json<serde_json::Value>,
}

async fn on_postgres(pool: PgPool, row: Profile) {
    let _ = row.upsert(&pool).await;
}

async fn on_mysql(pool: MySqlPool, row: Profile) {
    let _ = row.upsert(&pool).await;
}

fn main() {
    let _ = (on_postgres, on_mysql);
}
