use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(skip_unchanged)]
struct PostTag {
    #[conflict_key]
    post: i64,
    #[conflict_key]
    tag: String,
}

fn main() {}
