use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table = "visitors")]
#[upsert(table = "visitor")]
struct Visitor {
    #[conflict_key]
    id: String,
    #[upsert(skip, skip)]
    path: String,
}

fn main() {}
