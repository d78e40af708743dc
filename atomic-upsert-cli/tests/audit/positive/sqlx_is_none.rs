// The seed's pattern with sqlx: look, and insert when nothing was found.
async fn save_stats(pool: &sqlx::PgPool, kind: &str, data: &str) -> Result<(), sqlx::Error> {
    let existing = sqlx::query("SELECT id FROM strava_stats WHERE stats_type = $1") // READ
        .bind(kind)
        .fetch_optional(pool)
        .await?;
    if existing.is_none() {
        sqlx::query("INSERT INTO strava_stats (stats_type, data) VALUES ($1, $2)") // WRITE
            .bind(kind)
            .bind(data)
            .execute(pool)
            .await?;
    }
    Ok(())
}
