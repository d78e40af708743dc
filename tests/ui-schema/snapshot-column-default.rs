use atomic_upsert::AtomicUpsert;

// The column's DEFAULT is false: a `None` here would insert another value than the
// application's own inserts.
#[derive(AtomicUpsert)]
#[upsert(table = "handles")]
struct Handle {
    #[conflict_key]
    handle: String,
    owner: i64,
    #[upsert(default = "true")]
    retired: Option<bool>,
}

fn main() {}
