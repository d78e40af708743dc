use atomic_upsert::AtomicUpsert;

struct Coordinates {
    lat: f64,
    lon: f64,
}

#[derive(AtomicUpsert)]
struct Place {
    #[conflict_key]
    id: i64,
    name: String,
    location: Coordinates,
}

fn main() {}
