use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Profile {
    #[conflict_key]
    id: i64,
    #[upsert(coalesce)]
    city: String,
}

fn main() {}
