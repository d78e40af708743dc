// A SQLite pool of several connections: two `create_token` transactions run at once, both
// find no token of the name and both insert.
fn write_pool(url: &str) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(5)
        .connect_lazy(url)
        .expect("pool")
}

pub struct Database {
    transaction: AppTransaction,
}

impl Database {
    pub async fn create_token(&self, name: &str) -> Result<i64, ApiError> {
        let row = sqlx::query("SELECT id FROM tokens WHERE name = $1") // READ
            .bind(name)
            .fetch_optional(&mut *self.transaction.borrow().await)
            .await?;
        if row.is_some() {
            return Err(ApiError::AlreadyExists);
        }
        let id = sqlx::query_scalar("INSERT INTO tokens (name) VALUES ($1) RETURNING id") // WRITE
            .bind(name)
            .fetch_one(&mut *self.transaction.borrow().await)
            .await?;
        Ok(id)
    }
}
