use atomic_upsert::AtomicUpsert;

// `owner` is NOT NULL without a default, and no field writes it.
#[derive(AtomicUpsert)]
struct Profiles {
    #[conflict_key]
    id: i64,
    nickname: String,
    email: String,
}

fn main() {}
