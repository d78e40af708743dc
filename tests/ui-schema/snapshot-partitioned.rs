use atomic_upsert::AtomicUpsert;

// A partitioned table: the struct must say so, or the first write fails with 0A000.
#[derive(AtomicUpsert)]
struct Readings {
    #[conflict_key]
    sensor: i64,
    #[conflict_key]
    day: i32,
    value: f64,
}

fn main() {}
