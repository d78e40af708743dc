// Reads whose "no row" already left (`let Some(..) = .. else { return Err(..) }`,
// `.ok_or(..)?`): the insert after them runs with the rows found, whatever a check of a
// row's state then decides, so it never inserts a row a read looked for (the new token
// has a fresh id).
async fn refresh(pool: &sqlx::PgPool, token: Token) -> Result<(), Error> {
    if let Some(next_id) = token.next_id {
        let Some(next) = sqlx::query_as::<_, Token>("SELECT * FROM tokens WHERE id = $1")
            .bind(next_id)
            .fetch_optional(pool)
            .await?
        else {
            return Err(Error::NotFound);
        };
        let access = sqlx::query_as::<_, Token>("SELECT * FROM tokens WHERE id = $1")
            .bind(next.access_id)
            .fetch_optional(pool)
            .await?
            .ok_or(Error::NotFound)?;
        if access.is_used() {
            return Err(Error::Replayed);
        }
    }
    sqlx::query("INSERT INTO tokens (id, session_id) VALUES ($1, $2)")
        .bind(Uuid::new_v4())
        .bind(token.session_id)
        .execute(pool)
        .await?;
    Ok(())
}
