use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
union Number {
    int: i64,
    float: f64,
}

fn main() {}
