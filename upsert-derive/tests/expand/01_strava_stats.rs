#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
    #[upsert(created_at)]
    created_at: (),
    #[upsert(updated_at)]
    updated_at: (),
}
