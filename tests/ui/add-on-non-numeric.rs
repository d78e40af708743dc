use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct PageViews {
    #[conflict_key]
    url: String,
    #[upsert(add)]
    views: String,
}

fn main() {}
