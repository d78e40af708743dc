use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct StravaStats {
    #[conflict_key]
    #[upsert(skip)]
    stats_type: String,
    data: String,
}

fn main() {}
