// `exists` counts the rows of the crate's own query maker, which takes the key
// (`membership_query(game_id, challenge_id)`), and the insert takes its `ActiveModel`.
pub use crate::entity::game_challenge::{ActiveModel, Column, Entity, Model};

fn membership_query(game_id: i64, challenge_id: i64) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::GameId.eq(game_id))
        .filter(Column::ChallengeId.eq(challenge_id))
}

pub async fn exists(conn: &impl ConnectionTrait, game_id: i64, challenge_id: i64) -> Result<bool, DbError> {
    Ok(membership_query(game_id, challenge_id).count(conn).await? > 0)
}

pub async fn add(conn: &impl ConnectionTrait, model: ActiveModel) -> Result<Model, DbError> {
    Ok(model.insert(conn).await?)
}

async fn add_challenge(s: &AppState, game_id: i64, challenge_id: i64) -> Result<(), WebError> {
    if exists(&s.db, game_id, challenge_id).await? { // READ
        return Err(WebError::Conflict("challenge_already_in_game"));
    }
    add( // WRITE
        &s.db,
        ActiveModel {
            game_id: Set(game_id),
            challenge_id: Set(challenge_id),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
