// The statement is chosen on a branch (the seed's shape translated literally).
async fn save(conn: &mut sqlx::PgConnection, id: i32, token: &str) -> Result<(), sqlx::Error> {
    let existing = sqlx::query("SELECT 1 FROM strava_auth WHERE id = $1") // READ
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let sql = if existing.is_some() {
        "UPDATE strava_auth SET access_token = $2 WHERE id = $1"
    } else {
        "INSERT INTO strava_auth (id, access_token) VALUES ($1, $2)" // WRITE
    };
    sqlx::query(sql).bind(id).bind(token).execute(&mut *conn).await?;
    Ok(())
}
