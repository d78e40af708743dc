use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(nulls_not_distinct)]
struct Tag {
    #[conflict_key]
    name: String,
    color: String,
}

fn main() {}
