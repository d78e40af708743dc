// The crate reads and inserts only through generic helpers whose table is a type
// parameter; each call names it, by turbofish or by the row it passes, and the row structs
// name their tables (under `cfg_attr`, one per backend).
#[derive(Debug, Clone, Queryable)]
#[cfg_attr(feature = "postgres", diesel(table_name = schema_pg::service_configuration))]
pub struct ServiceConfiguration {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Insertable)]
#[cfg_attr(feature = "postgres", diesel(table_name = schema_pg::service_configuration))]
pub struct ServiceConfigurationNew {
    pub name: String,
}

async fn generic_find_one_core<T, P, R>(conn: &PgPoolConn, predicate: P) -> StorageResult<R> {
    let query = <T as HasTable>::table().filter(predicate);
    query.get_result_async(conn).await.map_err(MeshError::from)
}

pub async fn generic_find_one_optional<T, P, R>(storage: &Storage, predicate: P) -> StorageResult<Option<R>> {
    let conn = storage.get_conn().await?;
    to_optional(generic_find_one_core::<T, _, _>(&conn, predicate).await)
}

async fn generic_insert_core<T, V>(conn: &PgPoolConn, values: V) -> StorageResult<usize> {
    let query = diesel::insert_into(<T as HasTable>::table()).values(values);
    query.execute_async(conn).await.map_err(MeshError::from)
}

pub async fn generic_insert<T, V>(storage: &Storage, values: V) -> StorageResult<usize> {
    let conn = storage.get_conn().await?;
    generic_insert_core::<T, _>(&conn, values).await
}

pub async fn find_config_by_name(name: String) -> StorageResult<Option<ServiceConfiguration>> {
    let app_state = get_tenant_app_state().await;
    generic_find_one_optional::<<ServiceConfiguration as HasTable>::Table, _, ServiceConfiguration>(
        &app_state.db,
        dsl::name.eq(name),
    )
    .await
}

pub async fn insert_config(name: String) -> StorageResult<()> {
    let app_state = get_tenant_app_state().await;
    let config = ServiceConfigurationNew { name };
    generic_insert(&app_state.db, config).await?;
    Ok(())
}

pub async fn create_rule_config(name: String) -> Result<(), Error> {
    match find_config_by_name(name.clone()).await? { // READ
        Some(_) => Err(Error::ConfigurationAlreadyExists),
        None => insert_config(name).await.map_err(Error::from), // WRITE
    }
}
