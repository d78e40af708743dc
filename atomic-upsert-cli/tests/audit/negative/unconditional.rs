// The insert does not depend on the read: an event log appends every time.
async fn record(pool: &sqlx::PgPool, id: i64) -> Result<i64, sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE user_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    sqlx::query("INSERT INTO events (user_id) VALUES ($1)")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(total)
}
