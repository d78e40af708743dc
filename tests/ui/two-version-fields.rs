use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Account {
    #[conflict_key]
    id: i64,
    #[upsert(version)]
    seq: i64,
    #[upsert(version)]
    revision: i64,
}

fn main() {}
