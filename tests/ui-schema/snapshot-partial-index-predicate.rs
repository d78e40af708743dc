use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "users", conflict_where = "NOT archived")]
struct User {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
