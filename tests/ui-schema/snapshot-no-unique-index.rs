use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct NoIndex {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
