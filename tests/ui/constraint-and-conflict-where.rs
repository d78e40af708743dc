use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(constraint = "users_email_key", conflict_where = "NOT deleted")]
struct User {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
