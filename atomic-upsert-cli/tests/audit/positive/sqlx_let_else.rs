async fn touch(pool: &sqlx::PgPool, url: &str) -> Result<(), sqlx::Error> {
    let Some(_) = sqlx::query("SELECT 1 FROM pages WHERE url = $1") // READ
        .bind(url)
        .fetch_optional(pool)
        .await?
    else {
        sqlx::query("INSERT INTO pages (url, views) VALUES ($1, 1)") // WRITE
            .bind(url)
            .execute(pool)
            .await?;
        return Ok(());
    };
    Ok(())
}
