// The loop skips keys it found; the insert below runs for the others.
async fn import(pool: &sqlx::PgPool, names: &[String]) -> Result<(), sqlx::Error> {
    for name in names {
        let found = sqlx::query("SELECT 1 FROM labels WHERE name = $1") // READ
            .bind(name)
            .fetch_optional(pool)
            .await?;
        if found.is_some() {
            continue;
        }
        sqlx::query("INSERT INTO labels (name) VALUES ($1)") // WRITE
            .bind(name)
            .execute(pool)
            .await?;
    }
    Ok(())
}
