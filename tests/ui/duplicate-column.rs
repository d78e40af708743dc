use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Account {
    #[conflict_key]
    id: i64,
    email: String,
    #[upsert(rename = "email")]
    email_lower: String,
}

fn main() {}
