use atomic_upsert::AtomicUpsert;

// `total` is `integer`: PostgreSQL takes no text there, every write would fail (42804).
// (`score` is `text`, which holds every i64 as its text and gives it back: no error.)
#[derive(AtomicUpsert)]
struct Scores {
    #[conflict_key]
    id: i64,
    score: i64,
    total: String,
}

fn main() {}
