// `header` here is a request builder's, not the crate's function of that name.
struct Media;

impl Media {
    async fn header(&self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT id FROM media WHERE id = $1").bind(1).fetch_optional(pool).await?;
        Ok(())
    }
}

async fn fetch_and_store(pool: &sqlx::PgPool, url: &str) -> Result<(), Error> {
    let Some(request) = http::Request::builder().uri(url).header("accept", "json").ok() else {
        return Ok(());
    };
    sqlx::query("INSERT INTO media (url) VALUES ($1)").bind(url).execute(pool).await?;
    drop(request);
    Ok(())
}
