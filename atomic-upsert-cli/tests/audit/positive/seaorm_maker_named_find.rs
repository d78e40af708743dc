// A query maker of the crate named `find` (`fn find(..) -> Select<sbom_node::Entity>`)
// is not `SeaORM`'s own: `organization::Entity::find()` still reads `organization`.
fn find(relation: sbom_node::Relation) -> Select<sbom_node::Entity> {
    sbom_node::Entity::find().filter(sbom_node::Column::Relation.eq(relation))
}

async fn ingest_organization(db: &DatabaseConnection, name: String) -> Result<organization::Model, DbErr> {
    if let Some(found) = organization::Entity::find()
        .filter(organization::Column::Name.eq(name.clone()))
        .one(db) // READ
        .await?
    {
        return Ok(found);
    }
    organization::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
    .insert(db) // WRITE
    .await
}
