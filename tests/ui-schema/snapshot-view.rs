use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "live_users")]
struct LiveUser {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
