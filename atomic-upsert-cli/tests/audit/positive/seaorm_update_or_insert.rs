use sea_orm::*;

// The found row becomes an ActiveModel and is updated; else a new one is inserted: an upsert.
async fn set_value(db: &DatabaseConnection, key: String, value: String) -> Result<(), DbErr> {
    match setting::Entity::find()
        .filter(setting::Column::Key.eq(key.clone()))
        .one(db) // READ
        .await?
    {
        Some(found) => {
            let mut model: setting::ActiveModel = found.into();
            model.value = Set(value);
            model.update(db).await?;
        }
        None => {
            setting::ActiveModel {
                key: Set(key),
                value: Set(value),
                ..Default::default()
            }
            .insert(db) // WRITE
            .await?;
        }
    }
    Ok(())
}
