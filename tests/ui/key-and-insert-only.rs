use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct StravaStats {
    #[conflict_key]
    #[upsert(insert_only)]
    stats_type: String,
    data: String,
}

fn main() {}
