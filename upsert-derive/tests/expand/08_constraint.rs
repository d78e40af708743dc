#[upsert(table = "auth", constraint = "auth_pkey")]
struct Auth<'a> {
    #[conflict_key]
    id: i64,
    token: &'a str,
}
