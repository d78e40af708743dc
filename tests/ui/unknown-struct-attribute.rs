use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(tabel = "visitors")]
struct Visitor {
    #[conflict_key]
    id: String,
    path: String,
}

fn main() {}
