// The tags read for display, then a loop whose filter looks at the input alone: the insert
// is not decided by what was read.
async fn tag_post(pool: &sqlx::PgPool, post: i64, tags: &[String]) -> Result<(), sqlx::Error> {
    let shown: Vec<String> = sqlx::query_scalar("SELECT name FROM post_tags WHERE post_id = $1")
        .bind(post)
        .fetch_all(pool)
        .await?;
    render(&shown);
    for tag in tags.iter().filter(|tag| !tag.is_empty()) {
        sqlx::query("INSERT INTO post_tags (post_id, name) VALUES ($1, $2)")
            .bind(post)
            .bind(tag)
            .execute(pool)
            .await?;
    }
    Ok(())
}
