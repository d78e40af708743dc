// `..Default::default()` fills a value's other fields. It is not taken for database work,
// even where one of the crate's `Default` impls does some (here a registry that records
// its fallback location when it is made), so the lookup below inserts nothing.
impl Default for Registry {
    fn default() -> Self {
        let pool = global_pool();
        futures::executor::block_on(
            sqlx::query("INSERT INTO locations (username) VALUES ('fallback')").execute(pool),
        )
        .ok();
        Registry { pool }
    }
}

async fn lookup(pool: &sqlx::PgPool, user: &str) -> Result<Location, sqlx::Error> {
    let found: Option<Location> = sqlx::query_as("SELECT * FROM locations WHERE username = $1")
        .bind(user)
        .fetch_optional(pool)
        .await?;
    Ok(found.unwrap_or_else(|| Location {
        username: user.to_owned(),
        ..Default::default()
    }))
}
