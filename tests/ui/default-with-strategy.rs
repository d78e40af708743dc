use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Counter {
    #[conflict_key]
    id: i32,
    #[upsert(greatest, default = "0")]
    high_water: Option<i64>,
    #[upsert(default = "")]
    note: Option<String>,
}

fn main() {}
