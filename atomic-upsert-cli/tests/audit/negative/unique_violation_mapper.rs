// The repository maps a unique violation to "already exists" in an error mapper of its
// own; the service's check before it is then only a fast path.
fn map_db_error(error: sqlx::Error) -> RepoError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => RepoError::AlreadyExists,
        _ => RepoError::Other(error),
    }
}

struct Users {
    pool: sqlx::PgPool,
}

impl Users {
    async fn find_by_email(&self, email: &str) -> Result<Option<i64>, RepoError> {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_db_error)
    }

    async fn insert(&self, email: &str) -> Result<(), RepoError> {
        sqlx::query("INSERT INTO users (email) VALUES ($1)")
            .bind(email)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(())
    }
}

async fn register(users: &Users, email: &str) -> Result<(), RepoError> {
    if users.find_by_email(email).await?.is_some() {
        return Err(RepoError::AlreadyExists);
    }
    users.insert(email).await
}
