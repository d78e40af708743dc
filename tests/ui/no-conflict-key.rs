use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct StravaStats {
    stats_type: String,
    data: String,
}

fn main() {}
