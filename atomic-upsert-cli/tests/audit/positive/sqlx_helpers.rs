// The read and the insert live in a repository's methods; the race is in their caller.
struct Members {
    pool: sqlx::PgPool,
}

impl Members {
    async fn find_by_email(&self, email: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM members WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
    }

    async fn create(&self, email: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO members (email) VALUES ($1)")
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn sign_up(members: &Members, email: &str) -> Result<(), sqlx::Error> {
    if members.find_by_email(email).await?.is_none() { // READ
        members.create(email).await?; // WRITE
    }
    Ok(())
}
