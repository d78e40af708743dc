use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Best {
    #[conflict_key]
    athlete: i64,
    #[upsert(greatest, add)]
    longest_ride_m: i64,
}

fn main() {}
