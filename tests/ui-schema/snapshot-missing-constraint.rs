use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(constraint = "auth_token_key")]
struct Auth {
    #[conflict_key]
    id: i32,
    token: String,
}

fn main() {}
