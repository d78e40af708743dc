use sea_orm::*;

async fn ensure(db: &DatabaseConnection, id: i32, model: setting::ActiveModel) -> Result<(), DbErr> {
    match setting::Entity::find_by_id(id).one(db).await? { // READ
        Some(_) => {}
        None => {
            setting::Entity::insert(model).exec(db).await?; // WRITE
        }
    }
    Ok(())
}
