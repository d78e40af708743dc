use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Visit {
    #[conflict_key]
    id: i64,
    #[upsert(created_at, sql_type = "timestamptz")]
    created_at: (),
}

fn main() {}
