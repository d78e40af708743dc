// Whether today's notice is missing, kept in a flag (`.is_none()` on the read): the branch
// on the flag is taken when the row is missing, and two ingests both send and record it.
async fn notify(pool: &sqlx::PgPool, org: i64) -> Result<(), sqlx::Error> {
    let can_send = sqlx::query("SELECT 1 FROM notices WHERE org_id = $1 AND day = CURRENT_DATE") // READ
        .bind(org)
        .fetch_optional(pool)
        .await?
        .is_none();
    if can_send {
        send_mail(org).await;
        sqlx::query("INSERT INTO notices (org_id, day) VALUES ($1, CURRENT_DATE)") // WRITE
            .bind(org)
            .execute(pool)
            .await?;
    }
    Ok(())
}
