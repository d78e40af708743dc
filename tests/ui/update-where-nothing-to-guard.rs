use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(update_where = "NOT post_tag.locked")]
struct PostTag {
    #[conflict_key]
    post: i64,
    #[conflict_key]
    tag: String,
}

fn main() {}
