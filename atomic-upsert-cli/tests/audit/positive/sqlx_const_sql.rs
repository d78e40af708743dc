// The SQL lives in constants, used by name.
const FIND_TAG: &str = "SELECT id FROM tags WHERE name = $1";
const INSERT_TAG: &str = "INSERT INTO tags (name) VALUES ($1)";

async fn ensure_tag(pool: &sqlx::PgPool, name: &str) -> Result<(), sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as(FIND_TAG) // READ
        .bind(name)
        .fetch_optional(pool)
        .await?;
    if found.is_none() {
        sqlx::query(INSERT_TAG).bind(name).execute(pool).await?; // WRITE
    }
    Ok(())
}
