use atomic_upsert::AtomicUpsert;

// SQLite has no `ON CONFLICT ON CONSTRAINT`.
#[derive(AtomicUpsert)]
#[upsert(table = "auth", constraint = "auth_pkey")]
struct Auth {
    #[conflict_key]
    id: i64,
    token: String,
}

async fn run(lite: atomic_upsert::sqlx::SqlitePool) {
    let rows = vec![Auth { id: 1, token: "t".into() }];
    let _ = Auth::upsert_many(&lite, &rows).await;
}

fn main() {
    let _ = run;
}
