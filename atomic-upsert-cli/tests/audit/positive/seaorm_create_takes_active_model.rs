// A repository file of free functions for one table: `create` inserts the `ActiveModel`
// it is handed (imported by its bare name), and the check starts from the file's own
// query maker (`base_find()`) and answers `true` when it found nothing
// (`.unwrap_or(true)`). The handler checks through it, then creates.
pub use crate::entity::user::{ActiveModel, Column, Entity, Model};

fn base_find() -> sea_orm::Select<Entity> {
    Entity::find().filter(Column::Deleted.eq(false))
}

pub async fn is_username_unique(conn: &impl ConnectionTrait, id: i64, name: &str) -> Result<bool, DbError> {
    let user = base_find().filter(Column::Username.eq(name)).one(conn).await?;
    Ok(user.map(|u| u.id == id).unwrap_or(true))
}

pub async fn create(conn: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbError> {
    Ok(model.insert(conn).await?)
}

async fn register(s: &AppState, body: Register) -> Result<(), WebError> {
    if !is_username_unique(&s.db, 0, &body.username).await? { // READ
        return Err(WebError::Conflict("username_already_exists"));
    }
    create( // WRITE
        &s.db,
        ActiveModel {
            username: Set(body.username),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
