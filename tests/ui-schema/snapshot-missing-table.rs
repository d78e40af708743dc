use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "stava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: atomic_upsert::sqlx::types::Json<serde_json::Value>,
}

fn main() {}
