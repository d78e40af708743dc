// Inside the arm that found the row, a test of that row (`attempt.is_expired()`) is still on
// the "found" side: the function returns the live attempt it found, and inserts a new one
// when there was none, so two first requests both insert.
async fn start_login(pool: &sqlx::PgPool, ip: &str) -> Result<Attempt, sqlx::Error> {
    let found: Option<Attempt> = sqlx::query_as("SELECT * FROM login_attempts WHERE ip = $1") // READ
        .bind(ip)
        .fetch_optional(pool)
        .await?;
    if let Some(attempt) = found {
        if attempt.is_expired() {
            sqlx::query("DELETE FROM login_attempts WHERE uid = $1")
                .bind(attempt.uid)
                .execute(pool)
                .await?;
        } else {
            return Ok(attempt);
        }
    }
    sqlx::query_as("INSERT INTO login_attempts (ip) VALUES ($1) RETURNING *") // WRITE
        .bind(ip)
        .fetch_one(pool)
        .await
}
