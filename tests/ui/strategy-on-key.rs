use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct PageViews {
    #[conflict_key]
    #[upsert(add)]
    url_id: i64,
    views: i64,
}

fn main() {}
