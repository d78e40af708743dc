// The insert resolves the conflict itself.
async fn save(pool: &sqlx::PgPool, kind: &str) -> Result<(), sqlx::Error> {
    let existing = sqlx::query("SELECT 1 FROM strava_stats WHERE stats_type = $1")
        .bind(kind)
        .fetch_optional(pool)
        .await?;
    if existing.is_none() {
        sqlx::query("INSERT INTO strava_stats (stats_type) VALUES ($1) ON CONFLICT (stats_type) DO NOTHING")
            .bind(kind)
            .execute(pool)
            .await?;
    }
    Ok(())
}
