// A generic helper reads and inserts a table given as a type parameter: in itself it names
// no table, so nothing is reported here; each caller's turbofish or row names one.
async fn find_or_insert<T, V>(conn: &PgPoolConn, predicate: V) -> StorageResult<usize> {
    let found = <T as HasTable>::table().filter(predicate.clone()).first_async(conn).await;
    if found.is_ok() {
        return Ok(0);
    }
    diesel::insert_into(<T as HasTable>::table())
        .values(predicate)
        .execute_async(conn)
        .await
        .map_err(MeshError::from)
}
