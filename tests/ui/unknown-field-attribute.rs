use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Visitor {
    #[conflict_key]
    id: String,
    #[upsert(insrt_only)]
    first_referrer: String,
}

fn main() {}
