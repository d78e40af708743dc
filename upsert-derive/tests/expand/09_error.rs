#[upsert(table = "broken", unknown_key = "x")]
struct Broken {
    #[conflict_key]
    id: i64,
    #[upsert(add)]
    name: String,
}
