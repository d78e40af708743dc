use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Stats(#[conflict_key] String, i64);

fn main() {}
