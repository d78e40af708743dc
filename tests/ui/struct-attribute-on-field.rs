use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Visitor {
    #[conflict_key]
    id: String,
    #[upsert(table = "visitors")]
    path: String,
}

fn main() {}
