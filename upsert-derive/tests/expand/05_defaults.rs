#[upsert(table = "mention")]
struct Mention {
    #[conflict_key]
    recipient: i64,
    #[conflict_key]
    comment: i64,
    #[upsert(default = "false")]
    read: Option<bool>,
    #[upsert(update_from = "sent")]
    published: String,
}
