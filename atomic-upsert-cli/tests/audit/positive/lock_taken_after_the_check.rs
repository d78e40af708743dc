// The check runs on the pool, outside the transaction; the advisory lock is taken only for
// the insert: two callers both find no tag, then take the lock one after the other, and
// both insert. A lock covers only the reads made under it.
async fn add_tag(pool: &sqlx::PgPool, post: i64, tag: &str) -> Result<(), sqlx::Error> {
    let existing = sqlx::query("SELECT 1 FROM post_tags WHERE post_id = $1 AND tag = $2") // READ
        .bind(post)
        .bind(tag)
        .fetch_optional(pool)
        .await?;
    if existing.is_none() {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(post)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2)") // WRITE
            .bind(post)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
