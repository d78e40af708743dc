// A serializable transaction: one of two racing callers fails to commit instead.
async fn reserve(pool: &sqlx::PgPool, seat: i32) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").execute(&mut *tx).await?;
    let held: Option<(i32,)> = sqlx::query_as("SELECT seat FROM seats WHERE seat = $1")
        .bind(seat)
        .fetch_optional(&mut *tx)
        .await?;
    if held.is_none() {
        sqlx::query("INSERT INTO seats (seat) VALUES ($1)").bind(seat).execute(&mut *tx).await?;
    }
    tx.commit().await
}
