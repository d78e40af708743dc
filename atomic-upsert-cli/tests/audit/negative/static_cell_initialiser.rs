// The appservice user is created inside a `static` cell's initialiser: the cell runs it once
// in the process, however many requests call `appservice_user` at once, so the read and the
// insert cannot race each other.
static APPSERVICE_USER: tokio::sync::OnceCell<i64> = tokio::sync::OnceCell::const_new();

async fn appservice_user(pool: &sqlx::PgPool) -> i64 {
    *APPSERVICE_USER
        .get_or_init(|| async {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = $1")
                .bind("appservice")
                .fetch_optional(pool)
                .await
                .expect("read");
            if let Some((id,)) = found {
                return id;
            }
            let (id,): (i64,) =
                sqlx::query_as("INSERT INTO users (name) VALUES ($1) RETURNING id")
                    .bind("appservice")
                    .fetch_one(pool)
                    .await
                    .expect("insert");
            id
        })
        .await
}

async fn handler(pool: &sqlx::PgPool) {
    let _ = appservice_user(pool).await;
}
