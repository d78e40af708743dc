use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Event {
    #[conflict_key]
    #[upsert(created_at)]
    created_at: (),
    #[conflict_key]
    #[upsert(updated_at)]
    updated_at: (),
    payload: String,
}

fn main() {}
