// Writes go through a SQLite pool of one connection, each in a transaction a `Database`
// holds for its methods: two `create_token` calls cannot interleave, so the check and the
// insert stay together.
fn write_pool(url: &str) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_lazy(url)
        .expect("pool")
}

pub struct Database {
    transaction: AppTransaction,
}

impl Database {
    pub async fn create_token(&self, name: &str) -> Result<i64, ApiError> {
        let row = sqlx::query("SELECT id FROM tokens WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.transaction.borrow().await)
            .await?;
        if row.is_some() {
            return Err(ApiError::AlreadyExists);
        }
        let id = sqlx::query_scalar("INSERT INTO tokens (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(&mut *self.transaction.borrow().await)
            .await?;
        Ok(id)
    }
}
