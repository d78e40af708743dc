use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(tabel = "accounts")]
struct Account {
    #[conflict_key]
    id: i64,
    #[upsert(insert_onyl)]
    email: String,
}

fn main() {}
