// Returns the row it finds, else inserts it: the fix is insert-or-get.
async fn tag_id(pool: &sqlx::PgPool, name: &str) -> Result<i64, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM labels WHERE name = $1") // READ
        .bind(name)
        .fetch_optional(pool)
        .await?;
    match found {
        Some((id,)) => Ok(id),
        None => {
            let (id,): (i64,) = sqlx::query_as("INSERT INTO labels (name) VALUES ($1) RETURNING id") // WRITE
                .bind(name)
                .fetch_one(pool)
                .await?;
            Ok(id)
        }
    }
}
