// Renewal: the old session must be the user's (a comparison of what the row holds, not a
// check for a row), then a new session with a fresh token.
async fn renew(pool: &sqlx::PgPool, token: &str, user: i64) -> Result<String, Error> {
    let old: Session = sqlx::query_as("SELECT * FROM sessions WHERE token = $1")
        .bind(token)
        .fetch_one(pool)
        .await?;
    if old.user_id != user {
        return Err(Error::NotYours);
    }
    let fresh = new_token();
    sqlx::query("INSERT INTO sessions (token, user_id) VALUES ($1, $2)")
        .bind(&fresh)
        .bind(user)
        .execute(pool)
        .await?;
    Ok(fresh)
}
