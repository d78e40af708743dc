use sea_orm::*;

// The prelude's alias for `user::Entity`, and the module's `ActiveModel`.
async fn join(db: &DatabaseConnection, email: String) -> Result<(), DbErr> {
    if User::find()
        .filter(user::Column::Email.eq(email.clone()))
        .one(db) // READ
        .await?
        .is_none()
    {
        user::ActiveModel {
            email: Set(email),
            ..Default::default()
        }
        .insert(db) // WRITE
        .await?;
    }
    Ok(())
}
