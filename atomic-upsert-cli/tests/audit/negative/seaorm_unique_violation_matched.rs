// The name is checked, and a lost race is answered the same way: SeaORM's
// `SqlErr::UniqueConstraintViolation` from the insert is matched (in `matches!`) and turned
// into the "name taken" the check gives.
pub async fn create(db: &DatabaseConnection, name: String) -> Result<organization::Model, Error> {
    if organization::Entity::find().filter(organization::Column::Name.eq(&name)).one(db).await?.is_some() {
        return Err(Error::NameTaken);
    }
    let model = organization::ActiveModel { name: Set(name.clone()), ..Default::default() };
    match model.insert(db).await {
        Ok(model) => Ok(model),
        Err(insert_err) => {
            if matches!(insert_err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                return Err(Error::NameTaken);
            }
            Err(insert_err.into())
        }
    }
}
