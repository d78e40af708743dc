// The crate's `context` turns a unique violation into a `Conflict` error. That answers a
// check that rejects; this one goes on as if the association were there (`Ok(())`), so a
// caller that loses the race gets an error the check promised it would not.
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

pub async fn add(db: &DatabaseConnection, project_id: &str, endpoint_id: &str) -> Result<(), Error> {
    let existing = project_endpoint::Entity::find_by_id((endpoint_id.to_owned(), project_id.to_owned()))
        .one(db) // READ
        .await
        .context("checking the association")?;
    if existing.is_some() {
        return Ok(());
    }
    project_endpoint::ActiveModel {
        endpoint_id: Set(endpoint_id.to_owned()),
        project_id: Set(project_id.to_owned()),
    }
    .insert(db) // WRITE
    .await
    .context("associating endpoint with project")?;
    Ok(())
}
