use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Setting {
    #[conflict_key]
    key: String,
    #[upsert(skip = true)]
    value: String,
}

fn main() {}
