use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Visitor {
    #[conflict_key]
    id: String,
    #[upsert(skip, insert_only)]
    first_referrer: String,
    #[upsert(created_at)]
    #[upsert(updated_at)]
    seen_at: (),
}

fn main() {}
