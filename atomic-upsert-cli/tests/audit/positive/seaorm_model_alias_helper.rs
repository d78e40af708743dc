use schema::feed_item::Model as DbFeedItem;
use sea_orm::*;

// The insert is in a helper whose parameter is the entity's model under another name.
async fn create_item(item: DbFeedItem, db: &DatabaseConnection) -> Result<(), DbErr> {
    item.into_active_model().insert(db).await?;
    Ok(())
}

async fn check_item(item: DbFeedItem, db: &DatabaseConnection) -> Result<(), DbErr> {
    match feed_item::Entity::find_by_id(item.id.clone()).one(db).await? { // READ
        Some(_) => Ok(()),
        None => create_item(item, db).await, // WRITE
    }
}
