use atomic_upsert::AtomicUpsert;

// `insert_or_get` runs on PostgreSQL only.
#[derive(AtomicUpsert)]
struct Account {
    #[conflict_key]
    email: String,
    plan: String,
}

async fn run(lite: atomic_upsert::sqlx::SqlitePool) {
    let wanted = Account { email: "a@b".into(), plan: "free".into() };
    let _ = wanted.insert_or_get(&lite).await;
}

fn main() {
    let _ = run;
}
