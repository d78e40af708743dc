use atomic_upsert::AtomicUpsert;

// `score` is `text`: PostgreSQL would store the number silently.
#[derive(AtomicUpsert)]
struct Scores {
    #[conflict_key]
    id: i64,
    score: i64,
    total: i32,
}

fn main() {}
