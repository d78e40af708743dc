use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Marker;

fn main() {}
