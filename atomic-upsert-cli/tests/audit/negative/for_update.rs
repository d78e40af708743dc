// The row is locked in the same transaction before the insert decision.
async fn reserve(tx: &mut sqlx::PgConnection, sku: &str) -> Result<(), sqlx::Error> {
    let stock = sqlx::query("SELECT qty FROM stock WHERE sku = $1 FOR UPDATE")
        .bind(sku)
        .fetch_optional(&mut *tx)
        .await?;
    if stock.is_none() {
        sqlx::query("INSERT INTO stock (sku, qty) VALUES ($1, 0)")
            .bind(sku)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
