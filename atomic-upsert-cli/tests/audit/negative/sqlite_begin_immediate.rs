// SQLite's write lock taken at BEGIN (`BEGIN IMMEDIATE`): the check and the insert run one
// writer at a time.
async fn import_calendar(conn: &mut sqlx::SqliteConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM calendars WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        sqlx::query("INSERT INTO calendars (id) VALUES (?)")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(())
}
