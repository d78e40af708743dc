use sea_orm::*;
use sea_orm::sea_query::OnConflict;

async fn ensure(db: &DatabaseConnection, id: i32, model: setting::ActiveModel) -> Result<(), DbErr> {
    if setting::Entity::find_by_id(id).one(db).await?.is_none() {
        setting::Entity::insert(model)
            .on_conflict(OnConflict::column(setting::Column::Id).do_nothing().to_owned())
            .exec(db)
            .await?;
    }
    Ok(())
}
