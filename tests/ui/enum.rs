use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
enum Stats {
    Ytd { total: i64 },
    Recent { total: i64 },
}

fn main() {}
