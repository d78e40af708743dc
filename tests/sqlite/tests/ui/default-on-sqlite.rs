use atomic_upsert::AtomicUpsert;

// SQLite's statements cannot read the value sent in an update.
#[derive(AtomicUpsert)]
struct Mention {
    #[conflict_key]
    id: i64,
    #[upsert(default = "0")]
    read: Option<bool>,
}

async fn run(lite: atomic_upsert::sqlx::SqlitePool) {
    let mention = Mention { id: 1, read: None };
    let _ = mention.upsert(&lite).await;
}

fn main() {
    let _ = run;
}
