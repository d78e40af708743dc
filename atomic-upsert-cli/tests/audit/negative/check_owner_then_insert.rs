// A validation helper that errs when the row is MISSING (the caller must own the crate)
// decides nothing about the insert into the same table that follows.
async fn ensure_owner(pool: &sqlx::PgPool, krate: i64, user: i64) -> Result<(), ApiError> {
    let owner: Option<(i64,)> = sqlx::query_as("SELECT user_id FROM owners WHERE crate_id = $1 AND user_id = $2")
        .bind(krate)
        .bind(user)
        .fetch_optional(pool)
        .await?;
    if owner.is_none() {
        return Err(ApiError::NotOwner);
    }
    Ok(())
}

async fn add_owner(pool: &sqlx::PgPool, krate: i64, user: i64, added: i64) -> Result<(), ApiError> {
    ensure_owner(pool, krate, user).await?;
    sqlx::query("INSERT INTO owners (crate_id, user_id) VALUES ($1, $2)")
        .bind(krate)
        .bind(added)
        .execute(pool)
        .await?;
    Ok(())
}
