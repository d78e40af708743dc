// The same `Option<i64>` count held against a limit is a quota: the insert is of a fresh
// row, whatever the count.
async fn add_key(pool: &PgPool, user_id: i64, key: &str) -> Result<(), Error> {
    let keys = sqlx::query!(
        "SELECT COUNT(1) FROM authentication_key WHERE user_id = $1",
        user_id
    )
    .fetch_one(pool)
    .await?;
    if keys.count >= Some(MAX_KEYS) {
        return Err(Error::BadRequest("Too many keys."));
    }
    sqlx::query!(
        "INSERT INTO authentication_key (id, user_id, key) VALUES (gen_random_uuid(), $1, $2)",
        user_id,
        key
    )
    .execute(pool)
    .await?;
    Ok(())
}
