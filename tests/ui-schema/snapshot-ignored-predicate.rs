use atomic_upsert::AtomicUpsert;

// The unique index on `handle` is not partial: PostgreSQL would ignore the predicate.
#[derive(AtomicUpsert)]
#[upsert(table = "handles", conflict_where = "NOT retired")]
struct Handle {
    #[conflict_key]
    handle: String,
    owner: i64,
}

fn main() {}
