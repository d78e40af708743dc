// sqlx's checked macros, and `if let None`.
async fn ensure_account(pool: &sqlx::PgPool, email: &str) -> Result<(), sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM accounts WHERE email = $1", email) // READ
        .fetch_optional(pool)
        .await?;
    if let None = found {
        sqlx::query!("INSERT INTO accounts (email, plan) VALUES ($1, 'free')", email) // WRITE
            .execute(pool)
            .await?;
    }
    Ok(())
}
