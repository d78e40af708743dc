use atomic_upsert::AtomicUpsert;

// SQLite has no array columns.
#[derive(AtomicUpsert)]
struct Post {
    #[conflict_key]
    id: i64,
    tags: Vec<String>,
}

async fn run(lite: atomic_upsert::sqlx::SqlitePool) {
    let post = Post { id: 1, tags: vec![] };
    let _ = post.upsert(&lite).await;
}

fn main() {
    let _ = run;
}
