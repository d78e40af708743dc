use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct PrivateMessage {
    #[conflict_key]
    ap_id: String,
    #[upsert(update_from = "bound")]
    content: String,
    // Only a field whose update writes the incoming value can choose where it comes from.
    #[upsert(insert_only, update_from = "sent")]
    published: i64,
}

fn main() {}
