// A function that takes a ClickHouse client: its SQL is ClickHouse's, not sqlx's (the file
// may hold sqlx code elsewhere).
use sqlx::PgPool;

async fn mark_processed(client: &clickhouse::Client, dataset: &str) -> Result<(), Error> {
    let last: Option<Row> = client
        .query("SELECT last FROM words_processed WHERE dataset = ?")
        .bind(dataset)
        .fetch_optional()
        .await?;
    if last.is_none() {
        client
            .query("INSERT INTO words_processed (dataset, last) VALUES (?, now())")
            .bind(dataset)
            .execute()
            .await?;
    }
    Ok(())
}

async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM datasets").fetch_one(pool).await
}
