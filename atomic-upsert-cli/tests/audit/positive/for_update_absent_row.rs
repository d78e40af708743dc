// A row lock on the row looked for (`SELECT .. FOR UPDATE`) locks nothing when the row is
// missing: two imports both find no group and both insert it.
async fn upsert_group(tx: &mut sqlx::PgConnection, name: &str) -> Result<i64, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM groups WHERE groupname = $1 FOR UPDATE") // READ
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    match found {
        Some((id,)) => Ok(id),
        None => {
            let (id,): (i64,) = sqlx::query_as("INSERT INTO groups (groupname) VALUES ($1) RETURNING id") // WRITE
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
            Ok(id)
        }
    }
}
