// A SeaORM entity imported under an alias (`Entity as Setting`): the read goes through the
// alias, the insert through the module's `ActiveModel`; both are the `setting` table.
use entities::setting;
use entities::setting::Entity as AppSetting;
use sea_orm::*;

impl Settings {
    pub async fn lookup(&self, owner: String, name: String) -> Result<Option<setting::Model>, DbErr> {
        AppSetting::find()
            .filter(setting::Column::Owner.eq(owner))
            .filter(setting::Column::Name.eq(name))
            .one(&self.db)
            .await
    }

    pub async fn store(&self, owner: String, name: String, value: String) -> Result<(), DbErr> {
        match self.lookup(owner.clone(), name.clone()).await? { // READ
            Some(found) => {
                let mut found: setting::ActiveModel = found.into();
                found.value = Set(value);
                found.update(&self.db).await?;
            }
            None => {
                setting::ActiveModel {
                    owner: Set(owner),
                    name: Set(name),
                    value: Set(value),
                    ..Default::default()
                }
                .insert(&self.db) // WRITE
                .await?;
            }
        }
        Ok(())
    }
}
