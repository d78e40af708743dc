// The read sits in a branch of a `let` initializer; what it found decides the insert after.
async fn put_event(pool: &sqlx::PgPool, calendar: i64, uid: Option<String>, body: String) -> Result<(), sqlx::Error> {
    let existing: Option<i64> = if let Some(uid) = &uid {
        sqlx::query_scalar("SELECT id FROM events WHERE calendar_id = $1 AND uid = $2") // READ
            .bind(calendar)
            .bind(uid)
            .fetch_optional(pool)
            .await?
    } else {
        None
    };
    if let Some(id) = existing {
        sqlx::query("UPDATE events SET body = $1 WHERE id = $2")
            .bind(&body)
            .bind(id)
            .execute(pool)
            .await?;
    } else {
        sqlx::query("INSERT INTO events (calendar_id, uid, body) VALUES ($1, $2, $3)") // WRITE
            .bind(calendar)
            .bind(&uid)
            .bind(&body)
            .execute(pool)
            .await?;
    }
    Ok(())
}
