// An insert written as a common table expression (`WITH inserted AS (INSERT INTO ..)
// SELECT ..`), after a validation helper that returns `Err` when the location is taken.
async fn ensure_location_available(tx: &mut sqlx::PgConnection, location: &str) -> Result<(), Error> {
    let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tabular WHERE fs_location = $1)")
        .bind(location)
        .fetch_one(&mut *tx)
        .await?;
    if taken {
        return Err(Error::LocationTaken);
    }
    Ok(())
}

pub async fn create_tabular(tx: &mut sqlx::PgConnection, id: Uuid, location: &str) -> Result<Uuid, Error> {
    ensure_location_available(tx, location).await?; // READ
    let sql = "WITH inserted AS (INSERT INTO tabular (tabular_id, fs_location) VALUES ($1, $2) RETURNING tabular_id) SELECT tabular_id FROM inserted";
    let id: Uuid = sqlx::query_scalar(sql) // WRITE
    .bind(id)
    .bind(location)
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}
