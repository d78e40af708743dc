// MySQL's and SQLite's own upserts resolve the conflict in the statement.
async fn save(pool: &sqlx::AnyPool, name: &str) -> Result<(), sqlx::Error> {
    let found = sqlx::query("SELECT 1 FROM tags WHERE name = ?")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    if found.is_none() {
        sqlx::query("INSERT INTO tags (name) VALUES (?) ON DUPLICATE KEY UPDATE name = name")
            .bind(name)
            .execute(pool)
            .await?;
        sqlx::query("INSERT OR IGNORE INTO tags (name) VALUES (?)")
            .bind(name)
            .execute(pool)
            .await?;
        sqlx::query("INSERT IGNORE INTO tags (name) VALUES (?)")
            .bind(name)
            .execute(pool)
            .await?;
    }
    Ok(())
}
