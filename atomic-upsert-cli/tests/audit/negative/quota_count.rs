// A COUNT compared with a limit is a quota, not a check that the row exists.
async fn add_device(pool: &sqlx::PgPool, tenant: i64, eui: &str, max: i64) -> Result<(), Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await?;
    if max != 0 && count >= max {
        return Err(Error::TooManyDevices);
    }
    sqlx::query("INSERT INTO devices (tenant_id, dev_eui) VALUES ($1, $2)")
        .bind(tenant)
        .bind(eui)
        .execute(pool)
        .await?;
    Ok(())
}
