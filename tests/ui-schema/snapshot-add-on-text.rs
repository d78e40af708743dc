use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Counters {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    hits: i64,
}

fn main() {}
