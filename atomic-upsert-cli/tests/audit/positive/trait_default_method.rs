// `User::create(..)` runs the trait's own `create`, whose `Self::create_with_transaction`
// is `User`'s: an insert into `users`, after the caller's read of the same email.
trait CreatableModel {
    async fn create_with_transaction(
        pool: &sqlx::PgPool,
        email: &str,
    ) -> Result<Self, sqlx::Error>
    where
        Self: Sized;

    async fn create(pool: &sqlx::PgPool, email: &str) -> Result<Self, sqlx::Error>
    where
        Self: Sized,
    {
        Self::create_with_transaction(pool, email).await
    }
}

impl CreatableModel for User {
    async fn create_with_transaction(pool: &sqlx::PgPool, email: &str) -> Result<Self, sqlx::Error> {
        sqlx::query_as("INSERT INTO users (email) VALUES ($1) RETURNING *")
            .bind(email)
            .fetch_one(pool)
            .await
    }
}

impl CreatableModel for Server {
    async fn create_with_transaction(pool: &sqlx::PgPool, name: &str) -> Result<Self, sqlx::Error> {
        sqlx::query_as("INSERT INTO servers (name) VALUES ($1) RETURNING *")
            .bind(name)
            .fetch_one(pool)
            .await
    }
}

async fn invite(pool: &sqlx::PgPool, email: &str) -> Result<User, sqlx::Error> {
    let found: Option<User> = sqlx::query_as("SELECT * FROM users WHERE email = $1") // READ
        .bind(email)
        .fetch_optional(pool)
        .await?;
    match found {
        Some(user) => Ok(user),
        None => User::create(pool, email).await, // WRITE
    }
}
