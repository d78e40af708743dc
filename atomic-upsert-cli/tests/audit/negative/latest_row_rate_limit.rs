// The latest invitation, by no key, read to space invitations out: a rate limit. The check
// that decides the insert is not on the invitations table at all.
use sea_orm::{ActiveValue, EntityTrait, QueryOrder};

async fn invite(db: &DatabaseConnection, email: &str, now: i64) -> Result<(), Error> {
    if let Some(last) = invitations::Entity::find()
        .order_by_desc(invitations::Column::CreatedAt)
        .one(db)
        .await?
    {
        if now - last.created_at < MIN_INTERVAL_SECONDS {
            return Err(Error::TooManyRequests);
        }
    }
    let model = invitations::ActiveModel {
        id: ActiveValue::Set(Uuid::new_v4()),
        email: ActiveValue::Set(email.to_owned()),
        created_at: ActiveValue::Set(now),
        ..Default::default()
    };
    invitations::Entity::insert(model).exec(db).await?;
    Ok(())
}
