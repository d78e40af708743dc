// SeaORM's `Entity::insert(model).on_conflict_do_nothing()`: a concurrent insert of the
// same key is ignored, as `ON CONFLICT DO NOTHING`.
pub async fn ingest_product(db: &DatabaseConnection, id: Uuid, name: String) -> Result<(), DbErr> {
    if product::Entity::find_by_id(id).one(db).await?.is_some() {
        return Ok(());
    }
    let entity = product::ActiveModel {
        id: Set(id),
        name: Set(name),
    };
    product::Entity::insert(entity)
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    Ok(())
}
