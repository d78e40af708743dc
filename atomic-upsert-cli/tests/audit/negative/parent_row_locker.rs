// A helper that only locks the parent's row (`SELECT .. FOR UPDATE` of the collection's
// state), called first in the transaction: grants for one collection run one at a time,
// so the check and the insert after it cannot interleave.
async fn lock_permission_owner(tx: &mut sqlx::PgConnection, collection: i32) -> Result<i64, sqlx::Error> {
    let (revision,): (i64,) = sqlx::query_as(
        "SELECT revision FROM collection_authorization_state WHERE collection_id = $1 FOR UPDATE",
    )
    .bind(collection)
    .fetch_one(&mut *tx)
    .await?;
    Ok(revision)
}

async fn grant(tx: &mut sqlx::PgConnection, collection: i32, group: i32) -> Result<(), sqlx::Error> {
    lock_permission_owner(tx, collection).await?;
    let existing: Option<(i32,)> =
        sqlx::query_as("SELECT id FROM permissions WHERE collection_id = $1 AND group_id = $2")
            .bind(collection)
            .bind(group)
            .fetch_optional(&mut *tx)
            .await?;
    if existing.is_none() {
        sqlx::query("INSERT INTO permissions (collection_id, group_id) VALUES ($1, $2)")
            .bind(collection)
            .bind(group)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
