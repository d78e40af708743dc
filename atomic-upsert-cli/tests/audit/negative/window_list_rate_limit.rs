// The grants of the last day, listed to cap how many a sender makes: a rate limit over a
// window of time, not a check that the grant exists.
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};

async fn grant(db: &DatabaseConnection, sender: Uuid, file: Uuid, now: i64) -> Result<(), Error> {
    let recent = share_events::Entity::find()
        .filter(share_events::Column::SenderId.eq(sender))
        .filter(share_events::Column::CreatedAt.gte(now - WINDOW_SECONDS))
        .all(db)
        .await?;
    if !recent.is_empty() && recent.iter().any(|e| e.file_id == file) {
        return Err(Error::TooManyRequests);
    }
    let event = share_events::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        sender_id: ActiveValue::Set(sender),
        file_id: ActiveValue::Set(file),
        created_at: ActiveValue::Set(now),
        ..Default::default()
    };
    share_events::Entity::insert(event).exec(db).await?;
    Ok(())
}
