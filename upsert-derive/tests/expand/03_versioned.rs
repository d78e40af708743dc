#[upsert(table = "entity_state")]
struct EntityState {
    #[conflict_key]
    id: i64,
    #[upsert(version)]
    version: i64,
    state: String,
    #[upsert(merge)]
    attrs: Json<serde_json::Value>,
}
