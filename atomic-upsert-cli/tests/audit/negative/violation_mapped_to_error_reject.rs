// The crate's `context` turns a unique violation into a `Conflict` error, and the check
// rejects with "already exists" too: the caller that loses the race gets the answer the
// check gives.
impl<T> DbContextExt<T> for Result<T, sea_orm::DbErr> {
    fn context(self, context: impl Into<String>) -> Result<T, DatabaseError> {
        self.map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(descr)) => DatabaseError::Conflict {
                message: descr.to_string(),
                context: context.into(),
            },
            _ => DatabaseError::Database { source: err, context: context.into() },
        })
    }
}

pub async fn create_region(db: &DatabaseConnection, id: &str) -> Result<(), DatabaseError> {
    let existing = region::Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .context("reading the region")?;
    if existing.is_some() {
        return Err(DatabaseError::Conflict {
            message: "region exists".into(),
            context: id.into(),
        });
    }
    region::ActiveModel { id: Set(id.to_owned()) }
        .insert(db)
        .await
        .context("creating the region")?;
    Ok(())
}
