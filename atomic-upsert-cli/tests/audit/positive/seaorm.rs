use sea_orm::*;

async fn register(db: &DatabaseConnection, email: String) -> Result<(), DbErr> {
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(email.clone()))
        .one(db) // READ
        .await?;
    if existing.is_none() {
        user::ActiveModel {
            email: Set(email),
            ..Default::default()
        }
        .insert(db) // WRITE
        .await?;
    }
    Ok(())
}
