use atomic_upsert::AtomicUpsert;

// `uuid::Uuid` is a column type once atomic-upsert's `uuid` feature is on; without it the
// first error names the feature to enable.
#[derive(AtomicUpsert)]
struct Session {
    #[conflict_key]
    id: uuid::Uuid,
    user_name: String,
}

fn main() {}
