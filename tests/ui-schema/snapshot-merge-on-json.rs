use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::types::Json;

#[derive(AtomicUpsert)]
struct Documents {
    #[conflict_key]
    id: i64,
    #[upsert(merge)]
    body: Json<serde_json::Value>,
}

fn main() {}
