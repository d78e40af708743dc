use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Doubled {
    #[conflict_key]
    id: i64,
    twice: i64,
}

fn main() {}
