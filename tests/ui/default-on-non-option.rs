use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct PersonMention {
    #[conflict_key]
    recipient_id: i32,
    // A non-Option field always sends its value: there is no `None` to default.
    #[upsert(default = "false")]
    read: bool,
}

fn main() {}
