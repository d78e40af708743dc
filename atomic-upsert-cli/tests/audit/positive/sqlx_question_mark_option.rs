// In a function returning `Option`, `?` on the read's decision returns early when the row
// exists; the insert after it runs only when it did not.
async fn create_if_missing(pool: &sqlx::PgPool, name: &str) -> Option<()> {
    let existing = sqlx::query("SELECT 1 FROM topics WHERE name = $1") // READ
        .bind(name)
        .fetch_optional(pool)
        .await
        .ok()?;
    existing.is_none().then_some(())?;
    sqlx::query("INSERT INTO topics (name) VALUES ($1)") // WRITE
        .bind(name)
        .execute(pool)
        .await
        .ok()?;
    Some(())
}
