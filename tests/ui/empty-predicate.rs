use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(conflict_where = "  ")]
struct User {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
