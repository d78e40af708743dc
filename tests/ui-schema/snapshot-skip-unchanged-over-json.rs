use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::types::Json;

#[derive(AtomicUpsert)]
#[upsert(skip_unchanged)]
struct Documents {
    #[conflict_key]
    id: i64,
    body: Json<serde_json::Value>,
}

fn main() {}
