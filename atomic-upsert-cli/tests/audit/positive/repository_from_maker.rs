// `let repo = Self::repo();` holds what `repo()` returns, a `UserRepository`: its
// `insert_user` is that type's, not the audit log's method of the same name.
struct UserRepository {
    pool: sqlx::PgPool,
}

impl UserRepository {
    async fn find_user(&self, name: &str) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
    }
    async fn insert_user(&self, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO users (name) VALUES ($1)")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl AuditLog {
    async fn insert_user(&self, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO audit_log (event) VALUES ($1)")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl UserUseCase {
    fn repo() -> UserRepository {
        UserRepository { pool: pool() }
    }

    async fn sign_up(name: &str) -> Result<(), sqlx::Error> {
        let repo = Self::repo();
        if repo.find_user(name).await?.is_some() { // READ
            return Ok(());
        }
        repo.insert_user(name).await // WRITE
    }
}
