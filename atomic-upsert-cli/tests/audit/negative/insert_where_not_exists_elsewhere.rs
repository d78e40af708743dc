// `WHERE NOT EXISTS` on another table (a block list) decides nothing about this table's
// key; on this table with `ON CONFLICT` the statement is atomic.
async fn follow(pool: &sqlx::PgPool, user: i64, topic: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO follows (user_id, topic) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM blocked_topics WHERE topic = $2)",
    )
    .bind(user)
    .bind(topic)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO follows (user_id, topic) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM follows WHERE user_id = $1 AND topic = $2) ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(topic)
    .execute(pool)
    .await?;
    Ok(())
}

