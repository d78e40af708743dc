use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

// The error type's conversion answers the unique violation with a variant the crate
// answers with a 409, as its check does: the second of two teams created at once with one
// name gets the same conflict the check gives.
pub async fn try_create(db: &DatabaseConnection, name: String) -> Result<Uuid, Error> {
    if teams::Entity::find()
        .filter(teams::Column::Name.eq(&name))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::TeamAlreadyExists { name });
    }
    let id = Uuid::new_v4();
    teams::ActiveModel {
        id: Set(id),
        name: Set(name),
    }
    .insert(db)
    .await?;
    Ok(id)
}

impl From<sea_orm::DbErr> for Error {
    fn from(value: sea_orm::DbErr) -> Self {
        if let sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) = &value
            && e.as_database_error().is_some_and(|d| d.is_unique_violation())
        {
            return Error::ConflictInDatabase;
        }
        Error::Database(value)
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::TeamAlreadyExists { .. } | Error::ConflictInDatabase => StatusCode::CONFLICT,
            Error::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
