use sea_orm::*;

// The row the read found is handed back; else the new one: insert or get.
async fn tag_named(db: &DatabaseConnection, name: String) -> Result<tag::Model, DbErr> {
    if let Some(found) = tag::Entity::find()
        .filter(tag::Column::Name.eq(name.clone()))
        .one(db) // READ
        .await?
    {
        return Ok(found);
    }
    let model = tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    };
    model.insert(db).await // WRITE
}
