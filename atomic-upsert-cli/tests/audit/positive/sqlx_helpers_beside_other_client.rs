// A function that takes a ClickHouse client (whose SQL the audit does not read as sqlx's)
// and the app's database: the crate's sqlx helpers it calls still read and insert.
pub async fn get_dataset_id_by_name(pool: &PgPool, name: &str, project_id: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar::<_, Uuid>("SELECT id FROM datasets WHERE name = $1 AND project_id = $2")
        .bind(name)
        .bind(project_id)
        .fetch_optional(pool)
        .await?)
}

pub async fn create_dataset(pool: &PgPool, name: &str, project_id: Uuid) -> Result<Uuid> {
    Ok(sqlx::query_scalar::<_, Uuid>("INSERT INTO datasets (name, project_id) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(project_id)
        .fetch_one(pool)
        .await?)
}

pub async fn create_datapoints(
    name: &str,
    project_id: Uuid,
    db: Arc<DB>,
    clickhouse: clickhouse::Client,
) -> anyhow::Result<Uuid> {
    let id = match get_dataset_id_by_name(&db.pool, name, project_id).await? { // READ
        Some(id) => id,
        None => create_dataset(&db.pool, name, project_id).await?, // WRITE
    };
    clickhouse.insert("datapoints")?.write(&id).await?;
    Ok(id)
}
