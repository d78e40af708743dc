use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Setting {
    #[conflict_key(name = "settings_pkey")]
    key: String,
    value: String,
}

fn main() {}
