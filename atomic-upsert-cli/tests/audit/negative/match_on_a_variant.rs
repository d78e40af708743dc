// The row read decides which plan to write, by what it holds: the new subscription row has a
// fresh id, and there was a row either way.
async fn change_plan(pool: &sqlx::PgPool, id: i64, plan: i64) -> Result<(), sqlx::Error> {
    let current: Subscription = sqlx::query_as("SELECT * FROM subscriptions WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    match current.kind {
        Kind::Flat => {
            sqlx::query("UPDATE subscriptions SET plan = $2 WHERE id = $1")
                .bind(id)
                .bind(plan)
                .execute(pool)
                .await?;
        }
        Kind::Metered => {
            sqlx::query("INSERT INTO subscriptions (id, plan) VALUES (gen_random_uuid(), $1)")
                .bind(plan)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
