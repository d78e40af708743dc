// The function takes a transaction-scoped advisory lock on the key first: callers queue.
async fn claim(pool: &sqlx::PgPool, slot: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(slot).execute(&mut *tx).await?;
    let taken: Option<(i64,)> = sqlx::query_as("SELECT slot FROM claims WHERE slot = $1")
        .bind(slot)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_none() {
        sqlx::query("INSERT INTO claims (slot) VALUES ($1)").bind(slot).execute(&mut *tx).await?;
    }
    tx.commit().await
}
