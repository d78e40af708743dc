// When the event is found it is deleted and written again: the insert runs on the arm
// taken when the row exists, not "no row, insert".
async fn replace_event(pool: &sqlx::PgPool, id: i64, body: &str) -> Result<(), sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    if let Some(old) = found {
        sqlx::query("DELETE FROM events WHERE id = $1").bind(old).execute(pool).await?;
        sqlx::query("INSERT INTO events (id, body) VALUES ($1, $2)")
            .bind(old)
            .bind(body)
            .execute(pool)
            .await?;
    }
    Ok(())
}
