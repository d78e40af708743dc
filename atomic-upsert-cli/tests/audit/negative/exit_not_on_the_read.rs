// The session is read, then the request is refused on a flag of the request itself: that
// exit looks at no read, so the read does not decide the insert (the insert has fresh keys
// from the caller's point of view: nothing here checks that the origin is free).
async fn create_origin(
    pool: &sqlx::PgPool,
    session: i64,
    req: &OriginReq,
) -> Result<(), Error> {
    let account = sqlx::query_as::<_, Account>("SELECT * FROM origins WHERE owner = $1")
        .bind(session)
        .fetch_optional(pool)
        .await?;
    if !req.public_key_ok {
        return Err(Error::BadKey);
    }
    sqlx::query("INSERT INTO origins (name, owner) VALUES ($1, $2)")
        .bind(&req.name)
        .bind(account.map(|a| a.id))
        .execute(pool)
        .await?;
    Ok(())
}
