use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    #[upsert(merge)]
    data: String,
}

fn main() {}
