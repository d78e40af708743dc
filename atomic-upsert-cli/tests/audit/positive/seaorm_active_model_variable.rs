use sea_orm::*;

// The ActiveModel is built into a variable and inserted later, after the check.
async fn add_group(db: &DatabaseConnection, name: String) -> Result<(), DbErr> {
    let existing = group::Entity::find()
        .filter(group::Column::Name.eq(name.clone()))
        .one(db) // READ
        .await?;
    if existing.is_some() {
        return Err(DbErr::Custom("group already exists".into()));
    }
    let model = group::ActiveModel {
        name: Set(name),
        ..Default::default()
    };
    model.insert(db).await?; // WRITE
    Ok(())
}
