struct Store;

impl Store {
    async fn remember(&self, pool: &sqlx::PgPool, user: i64, token: &str) -> Result<(), sqlx::Error> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT user_id FROM sessions WHERE user_id = $1") // READ
            .bind(user)
            .fetch_optional(pool)
            .await?;
        match row {
            Some(_) => {
                sqlx::query("UPDATE sessions SET token = $2 WHERE user_id = $1")
                    .bind(user)
                    .bind(token)
                    .execute(pool)
                    .await?;
            }
            None => {
                sqlx::query("INSERT INTO sessions (user_id, token) VALUES ($1, $2)") // WRITE
                    .bind(user)
                    .bind(token)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}
