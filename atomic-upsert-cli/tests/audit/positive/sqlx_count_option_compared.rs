// sqlx's `COUNT(..)` column is an `Option<i64>`: `exists.count == Some(1)` is the check,
// not a count held against a limit.
async fn add_key(pool: &PgPool, user_id: i64, key: &str) -> Result<(), Error> {
    let exists = sqlx::query!(
        "SELECT COUNT(1) FROM authentication_key WHERE user_id = $1 AND key = $2", // READ
        user_id,
        key
    )
    .fetch_one(pool)
    .await?;
    if exists.count == Some(1) {
        return Err(Error::BadRequest("Key already exists."));
    }
    sqlx::query!(
        "INSERT INTO authentication_key (user_id, key) VALUES ($1, $2)", // WRITE
        user_id,
        key
    )
    .execute(pool)
    .await?;
    Ok(())
}
