// A bare `ActiveModel` imported from its entity's module (`use crate::entity::smtp_configs::
// {ActiveModel, Entity as SmtpConfigEntity};`): it inserts into that module's table, the
// table the read by its aliased entity checks, not one named after this file.
use crate::entity::smtp_configs::{ActiveModel, Entity as SmtpConfigEntity};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

pub async fn upsert(db: &DatabaseConnection, realm_id: Uuid, host: String) -> Result<(), DbErr> {
    let existing = SmtpConfigEntity::find()
        .filter(crate::entity::smtp_configs::Column::RealmId.eq(realm_id))
        .one(db) // READ
        .await?;
    if let Some(existing) = existing {
        let mut active: ActiveModel = existing.into();
        active.host = Set(host);
        active.update(db).await?;
    } else {
        let active = ActiveModel {
            realm_id: Set(realm_id),
            host: Set(host),
            ..Default::default()
        };
        active.insert(db).await?; // WRITE
    }
    Ok(())
}
