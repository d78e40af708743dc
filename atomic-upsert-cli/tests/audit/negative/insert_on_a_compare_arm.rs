// The task is marked done; when its URL differs from the one crawled, a row is written for
// the new URL by a helper: the branch is taken on what the row holds, not on whether there
// is one.
async fn mark_done(pool: &sqlx::PgPool, id: i64) -> Result<Option<Task>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM crawl_queue WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

async fn add_url(pool: &sqlx::PgPool, url: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO crawl_queue (url) VALUES ($1)")
        .bind(url)
        .execute(pool)
        .await?;
    Ok(())
}

async fn process(pool: &sqlx::PgPool, id: i64, crawled: &str) -> Result<(), Error> {
    let task = match mark_done(pool, id).await? {
        Some(task) => task,
        None => return Err(Error::Gone),
    };
    if task.url != crawled {
        add_url(pool, crawled).await?;
    }
    Ok(())
}
