// `main` sets the service up once before it serves anything: `ensure_admin` is called only
// from `setup`, which only `main` calls, directly. It cannot race itself.
#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let pool = sqlx::PgPool::connect("postgres://localhost/app").await?;
    setup(&pool).await?;
    let app = axum::Router::new().route("/users", axum::routing::post(create_user));
    serve(app).await
}

async fn setup(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    ensure_admin(pool).await
}

async fn ensure_admin(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let admin: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = $1")
        .bind("admin")
        .fetch_optional(pool)
        .await?;
    if admin.is_none() {
        sqlx::query("INSERT INTO users (name) VALUES ($1)")
            .bind("admin")
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn create_user(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (name) VALUES ($1)")
        .bind("someone")
        .execute(pool)
        .await?;
    Ok(())
}
