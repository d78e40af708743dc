// A vote: the same value again does nothing, another one retires the old vote; then the new
// vote is inserted. Two first votes at once both find none and both insert.
async fn vote(pool: &sqlx::PgPool, page: i64, user: i64, value: i16) -> Result<(), sqlx::Error> {
    let old: Option<Vote> = sqlx::query_as("SELECT * FROM votes WHERE page_id = $1 AND user_id = $2 AND retired IS NULL") // READ
        .bind(page)
        .bind(user)
        .fetch_optional(pool)
        .await?;
    if let Some(old) = old {
        if old.value == value {
            return Ok(());
        }
        sqlx::query("UPDATE votes SET retired = now() WHERE id = $1")
            .bind(old.id)
            .execute(pool)
            .await?;
    }
    sqlx::query("INSERT INTO votes (page_id, user_id, value) VALUES ($1, $2, $3)") // WRITE
        .bind(page)
        .bind(user)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(())
}
