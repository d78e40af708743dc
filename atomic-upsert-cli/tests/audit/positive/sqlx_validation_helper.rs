// A validation helper returns `Err` when the row exists; the caller inserts after a `?`.
async fn ensure_username_free(pool: &sqlx::PgPool, name: &str) -> Result<(), AppError> {
    let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM accounts WHERE username = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    if taken.is_some() {
        return Err(AppError::UsernameTaken);
    }
    Ok(())
}

async fn sign_up(pool: &sqlx::PgPool, name: &str, hash: &str) -> Result<(), AppError> {
    ensure_username_free(pool, name).await?; // READ
    sqlx::query("INSERT INTO accounts (username, password_hash) VALUES ($1, $2)") // WRITE
        .bind(name)
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}
