use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[upsert(table)]
struct Setting {
    #[conflict_key]
    key: String,
    value: String,
}

fn main() {}
