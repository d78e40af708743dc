// A constructor seeds the admin account once, at startup, before any request runs.
impl Database {
    pub async fn new(pool: sqlx::PgPool) -> Result<Self, sqlx::Error> {
        let admin: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = 'admin'")
            .fetch_optional(&pool)
            .await?;
        if admin.is_none() {
            sqlx::query("INSERT INTO users (name) VALUES ('admin')").execute(&pool).await?;
        }
        Ok(Database { pool })
    }
}
