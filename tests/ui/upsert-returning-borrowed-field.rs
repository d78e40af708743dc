use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Tag<'a> {
    #[conflict_key]
    name: &'a str,
    color: String,
}

async fn run(pool: atomic_upsert::sqlx::PgPool) {
    let tag = Tag { name: "rust", color: "orange".into() };
    let _ = tag.upsert_returning(&pool).await;
}

fn main() {
    let _ = run;
}
