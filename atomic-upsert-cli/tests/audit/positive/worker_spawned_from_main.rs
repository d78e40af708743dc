// `main` starts this job in a loop on a spawned task: it runs again and again, beside the
// request handlers that call it too, so it is not startup code.
#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let pool = sqlx::PgPool::connect("postgres://localhost/app").await?;
    let jobs = pool.clone();
    tokio::spawn(async move {
        loop {
            let _ = refresh_stats(&jobs, "daily").await;
        }
    });
    Ok(())
}

async fn refresh_stats(pool: &sqlx::PgPool, kind: &str) -> Result<(), sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM stats WHERE kind = $1") // READ
        .bind(kind)
        .fetch_optional(pool)
        .await?;
    if row.is_none() {
        sqlx::query("INSERT INTO stats (kind) VALUES ($1)") // WRITE
            .bind(kind)
            .execute(pool)
            .await?;
    }
    Ok(())
}
