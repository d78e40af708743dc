#[upsert(table = "users", conflict_where = "NOT deleted", nulls_not_distinct)]
struct User {
    #[conflict_key]
    email: Option<String>,
    name: String,
    tags: Vec<String>,
    scores: Option<Vec<i32>>,
}
