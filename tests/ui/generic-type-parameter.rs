use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Setting<T> {
    #[conflict_key]
    key: String,
    value: T,
}

fn main() {}
