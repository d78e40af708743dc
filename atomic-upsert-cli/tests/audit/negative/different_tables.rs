// Reads one table, inserts into another: no race on a key.
async fn log_login(pool: &sqlx::PgPool, user: i64) -> Result<(), sqlx::Error> {
    let found = sqlx::query("SELECT 1 FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await?;
    if found.is_some() {
        sqlx::query("INSERT INTO audit_log (user_id, event) VALUES ($1, 'login')")
            .bind(user)
            .execute(pool)
            .await?;
    }
    Ok(())
}
