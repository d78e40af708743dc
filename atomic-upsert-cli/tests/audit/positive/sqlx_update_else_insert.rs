// UPDATE first; when it touched nothing, INSERT: two callers can both update nothing.
async fn bump(pool: &sqlx::PgPool, page: &str) -> Result<(), sqlx::Error> {
    let done = sqlx::query("UPDATE counters SET n = n + 1 WHERE page = $1") // READ
        .bind(page)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        sqlx::query("INSERT INTO counters (page, n) VALUES ($1, 1)") // WRITE
            .bind(page)
            .execute(pool)
            .await?;
    }
    Ok(())
}
