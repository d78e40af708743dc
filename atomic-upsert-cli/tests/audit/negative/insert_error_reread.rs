// An insert whose failure is answered by reading the row again (the loser of the race
// takes the winner's row, as `ON CONFLICT DO NOTHING` then a read would): handled.
pub async fn upload_object(db: &DatabaseConnection, oid: &str, size: i64) -> Result<(), Error> {
    let existing = artifact_objects::Entity::find_by_id(oid).one(db).await?;
    if existing.is_some() {
        return Ok(());
    }
    let model = artifact_objects::ActiveModel {
        oid: Set(oid.to_owned()),
        size_bytes: Set(size),
    };
    if let Err(e) = model.insert(db).await {
        match artifact_objects::Entity::find_by_id(oid).one(db).await? {
            Some(row) if row.size_bytes == size => {}
            Some(_) => return Err(Error::SizeMismatch),
            None => return Err(Error::Db(e)),
        }
    }
    Ok(())
}
