// The rows of the last twenty minutes counted: a rate limit on password resets, not a check
// that a row exists. Each reset gets a fresh random token; two at once only let a second
// reset through the window.
async fn request_reset(pool: &sqlx::PgPool, user: uuid::Uuid) -> Result<String, Error> {
    let recent: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM password_resets
         WHERE user_uuid = $1 AND created > NOW() - INTERVAL '20 minutes'",
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    if recent > 0 {
        return Err(Error::TooSoon);
    }
    let token = random_token();
    sqlx::query("INSERT INTO password_resets (user_uuid, token, created) VALUES ($1, $2, NOW())")
        .bind(user)
        .bind(&token)
        .execute(pool)
        .await?;
    Ok(token)
}
