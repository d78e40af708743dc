// One statement checks and inserts: under READ COMMITTED two concurrent calls both see no
// row in the subquery and both insert (a duplicate key, or a duplicate row without one).
async fn follow(pool: &sqlx::PgPool, user: i64, topic: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO follows (user_id, topic) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM follows WHERE user_id = $1 AND topic = $2)", // READ // WRITE
    )
    .bind(user)
    .bind(topic)
    .execute(pool)
    .await?;
    Ok(())
}
