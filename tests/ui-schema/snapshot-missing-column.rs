use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    date: atomic_upsert::sqlx::types::Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

fn main() {}
