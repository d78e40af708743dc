use atomic_upsert::AtomicUpsert;

// `total` is `integer`: reading it back as i64 fails after the write.
#[derive(AtomicUpsert)]
struct Scores {
    #[conflict_key]
    id: i64,
    score: String,
    total: i64,
}

fn main() {}
