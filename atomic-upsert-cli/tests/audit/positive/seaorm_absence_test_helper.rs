// A helper answering `true` when a read found nothing (`is_email_unique`: `..is_none()`),
// tested with `!`: its arm is taken when the row exists. The read is SeaORM 2's loader
// (`Entity::load()`), the insert a helper taking the `ActiveModel` under another name.
pub use crate::entity::email::{ActiveModel as EmailActiveModel, Column, Entity, Model};

pub async fn find_by_email(conn: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbError> {
    Ok(Entity::load().filter(Column::Email.eq(email)).one(conn).await?)
}

pub async fn is_email_unique(conn: &impl ConnectionTrait, email: &str) -> Result<bool, DbError> {
    Ok(find_by_email(conn, email).await?.is_none())
}

pub async fn create_email(conn: &impl ConnectionTrait, model: EmailActiveModel) -> Result<Model, DbError> {
    Ok(model.insert(conn).await?)
}

async fn add_email(s: &AppState, user_id: i64, email: String) -> Result<(), WebError> {
    if !is_email_unique(&s.db, &email).await? { // READ
        return Err(WebError::Conflict("email_already_exists"));
    }
    create_email( // WRITE
        &s.db,
        EmailActiveModel {
            email: Set(email),
            user_id: Set(user_id),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
