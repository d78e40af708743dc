use atomic_upsert::AtomicUpsert;

// Fine on PostgreSQL; SQLite has no schemas.
#[derive(AtomicUpsert)]
#[upsert(schema = "app")]
struct Setting {
    #[conflict_key]
    key: String,
    value: String,
}

async fn run(pg: atomic_upsert::sqlx::PgPool, lite: atomic_upsert::sqlx::SqlitePool) {
    let setting = Setting { key: "k".into(), value: "v".into() };
    let _ = setting.upsert(&pg).await;
    let _ = setting.upsert(&lite).await;
}

fn main() {
    let _ = run;
}
