use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "")]
struct Account {
    #[conflict_key]
    id: i64,
    #[upsert(rename = "")]
    email: String,
}

fn main() {}
