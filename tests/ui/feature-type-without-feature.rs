use atomic_upsert::AtomicUpsert;

// `uuid::Uuid` is a column type once atomic-upsert's `uuid` feature is on; without it one of
// the errors at the field names the feature to enable, with the Cargo line.
#[derive(AtomicUpsert)]
struct Session {
    #[conflict_key]
    id: uuid::Uuid,
    user_name: String,
}

fn main() {}
