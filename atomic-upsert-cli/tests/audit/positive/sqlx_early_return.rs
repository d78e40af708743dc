// The read returns early when the row exists; the insert below runs only when it did not.
async fn get_or_create(pool: &sqlx::PgPool, name: &str) -> Result<i64, sqlx::Error> {
    if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM tags WHERE name = $1") // READ
        .bind(name)
        .fetch_optional(pool)
        .await?
    {
        return Ok(id);
    }
    sqlx::query_scalar("INSERT INTO tags (name) VALUES ($1) RETURNING id") // WRITE
        .bind(name)
        .fetch_one(pool)
        .await
}
