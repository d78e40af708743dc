// A cell made on every call initialises on every call: two requests both read no row and
// both insert. Only a `static` cell runs its initialiser once.
async fn appservice_user(pool: &sqlx::PgPool) -> i64 {
    let cell = tokio::sync::OnceCell::new();
    *cell
        .get_or_init(|| async {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = $1") // READ
                .bind("appservice")
                .fetch_optional(pool)
                .await
                .expect("read");
            if let Some((id,)) = found {
                return id;
            }
            let (id,): (i64,) =
                sqlx::query_as("INSERT INTO users (name) VALUES ($1) RETURNING id") // WRITE
                    .bind("appservice")
                    .fetch_one(pool)
                    .await
                    .expect("insert");
            id
        })
        .await
}
