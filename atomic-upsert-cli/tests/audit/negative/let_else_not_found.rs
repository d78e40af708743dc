// The read must find its row (`let .. else` leaves when it does not); the insert is a new
// row that refers to it, not "no row, insert".
struct Fetcher {
    pool: sqlx::PgPool,
}

impl Fetcher {
    async fn fetch_post(&self, url: &str) -> Result<Option<Post>, sqlx::Error> {
        sqlx::query_as("SELECT id, url FROM posts WHERE url = $1")
            .bind(url)
            .fetch_optional(&self.pool)
            .await
    }
}

async fn announce(fetcher: &Fetcher, pool: &sqlx::PgPool, author: i64, url: &str) -> Result<(), Error> {
    let Some(original) = fetcher.fetch_post(url).await? else {
        return Err(Error::NotFound);
    };
    sqlx::query("INSERT INTO posts (author, reposted_id) VALUES ($1, $2)")
        .bind(author)
        .bind(original.id)
        .execute(pool)
        .await?;
    Ok(())
}
