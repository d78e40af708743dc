use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
#[conflict_key]
struct Setting {
    #[conflict_key]
    key: String,
    value: String,
}

fn main() {}
