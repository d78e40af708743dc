use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Profiles {
    #[conflict_key]
    id: i64,
    nickname: Option<String>,
    email: String,
    owner: String,
}

fn main() {}
