// The crate has its own `is_empty` (true when both its lists are empty); a call of that
// name on the rows read is still the standard test: `!results.is_empty()` is "found", the
// check rejects a taken slug, and two creations with one slug both pass it and insert.
impl ModerationMessages {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.version_specific.is_empty()
    }
}

async fn organization_create(pool: &sqlx::PgPool, slug: &str) -> Result<(), CreateError> {
    let results = sqlx::query("SELECT id FROM organizations WHERE slug = $1") // READ
        .bind(slug)
        .fetch_all(pool)
        .await?;
    if !results.is_empty() {
        return Err(CreateError::SlugCollision);
    }
    sqlx::query("INSERT INTO organizations (slug) VALUES ($1)") // WRITE
        .bind(slug)
        .execute(pool)
        .await?;
    Ok(())
}
