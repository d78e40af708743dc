// The parent comment is read, and its depth gives the reply's: the reply is a new row
// with a fresh id, whatever the read found; nothing the read looked for is inserted.
async fn reply(pool: &sqlx::PgPool, parent_id: i64, body: &str) -> Result<i64, sqlx::Error> {
    let mut depth = 0;
    let parent = sqlx::query!("SELECT depth FROM comments WHERE id = $1", parent_id)
        .fetch_optional(pool)
        .await?;
    if let Some(parent) = parent {
        depth = parent.depth + 1;
    }
    let row = sqlx::query!(
        "INSERT INTO comments (parent_id, depth, body) VALUES ($1, $2, $3) RETURNING id",
        parent_id,
        depth,
        body
    )
    .fetch_one(pool)
    .await?;
    Ok(row.id)
}
