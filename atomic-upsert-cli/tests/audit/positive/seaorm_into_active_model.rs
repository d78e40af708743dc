use sea_orm::*;

// A wrapper type's model becomes an ActiveModel at the insert; the wrapper is named after
// the entity (`ApubReceivedLike` wraps `received_like::Model`).
async fn receive_like(db: &DatabaseConnection, like: Like, actor: String, object: String) -> Result<(), DbErr> {
    if ReceivedLike::find()
        .filter(received_like::Column::Actor.eq(&actor))
        .filter(received_like::Column::Object.eq(&object))
        .one(db) // READ
        .await?
        .is_none()
    {
        ApubReceivedLike::from_json(&like)?
            .deref()
            .clone()
            .into_active_model()
            .insert(db) // WRITE
            .await?;
    }
    Ok(())
}
