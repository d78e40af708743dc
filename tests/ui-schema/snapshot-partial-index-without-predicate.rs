use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "users")]
struct User {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
