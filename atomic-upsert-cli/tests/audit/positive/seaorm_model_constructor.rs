// A `SeaORM` model made by the entity's own constructor, turned into an `ActiveModel` and
// inserted after a check of the same key.
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

pub async fn install_bot(db: &DatabaseConnection, bot: i64, target: i64) -> Result<(), Error> {
    let existing = bot_installations::Entity::find()
        .filter(bot_installations::Column::BotId.eq(bot))
        .filter(bot_installations::Column::TargetId.eq(target))
        .one(db) // READ
        .await?;
    if existing.is_some() {
        return Err(Error::AlreadyInstalled);
    }
    let model = bot_installations::Model::new(bot, target);
    let active_model = model.into_active_model();
    active_model.insert(db).await?; // WRITE
    Ok(())
}
