// A function named as startup code (`initialize_application`, like `init_` and `seed_`):
// it runs once before requests are served, so its check cannot race.
pub async fn initialize_application(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let realm: Option<(i64,)> = sqlx::query_as("SELECT id FROM realms WHERE name = $1")
        .bind("master")
        .fetch_optional(pool)
        .await?;
    if realm.is_none() {
        sqlx::query("INSERT INTO realms (name) VALUES ($1)")
            .bind("master")
            .execute(pool)
            .await?;
    }
    Ok(())
}
