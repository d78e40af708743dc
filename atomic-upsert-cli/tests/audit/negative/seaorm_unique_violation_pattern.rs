// As with `matches!`, but the unique violation is a `match` arm's pattern on the error.
pub async fn create2(db: &DatabaseConnection, name: String) -> Result<organization::Model, Error> {
    if organization::Entity::find().filter(organization::Column::Name.eq(&name)).one(db).await?.is_some() {
        return Err(Error::NameTaken);
    }
    let model = organization::ActiveModel { name: Set(name.clone()), ..Default::default() };
    match model.insert(db).await {
        Ok(model) => Ok(model),
        Err(e) => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Err(Error::NameTaken),
            _ => Err(e.into()),
        },
    }
}
