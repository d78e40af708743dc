use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(update_where = "NOT account.frozen")]
struct Account {
    #[conflict_key]
    id: i64,
    balance: i64,
    #[upsert(version)]
    seq: i64,
}

fn main() {}
