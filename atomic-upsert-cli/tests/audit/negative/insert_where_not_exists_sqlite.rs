// On SQLite one writing statement runs at a time, its subquery included: atomic.
async fn follow_local(pool: &sqlx::SqlitePool, user: i64, topic: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO follows (user_id, topic) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM follows WHERE user_id = ? AND topic = ?)",
    )
    .bind(user)
    .bind(topic)
    .bind(user)
    .bind(topic)
    .execute(pool)
    .await?;
    Ok(())
}
