use atomic_upsert::AtomicUpsert;

// Bulk upserts send every column as an array, and PostgreSQL has no arrays of arrays
// that UNNEST could split per row: array-typed columns are rejected for now.
#[derive(AtomicUpsert)]
struct Post {
    #[conflict_key]
    id: i64,
    tags: Vec<String>,
}

fn main() {}
