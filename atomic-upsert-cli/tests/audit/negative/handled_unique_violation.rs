// The insert's unique violation is caught and turned into "already exists".
async fn subscribe(pool: &sqlx::PgPool, email: &str) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM subscribers WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await?;
    if found.is_some() {
        return Ok(false);
    }
    match sqlx::query("INSERT INTO subscribers (email) VALUES ($1)").bind(email).execute(pool).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}
