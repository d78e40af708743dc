// The entity's `ActiveModel` imported under another name, built into a variable from a
// literal, filled in by a helper and inserted: the same table as the aliased `Entity` read.
use crate::models::routing::{
    ActiveModel as RoutingActiveModel, Column as RoutingColumn, Entity as RoutingEntity,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

async fn create_routing(db: &DatabaseConnection, doc: RouteDocument) -> Response {
    match RoutingEntity::find()
        .filter(RoutingColumn::Name.eq(doc.name.clone()))
        .one(db) // READ
        .await
    {
        Ok(Some(_)) => return bad_request("Route name already exists"),
        Ok(None) => {}
        Err(err) => return internal_error(err),
    }
    let mut active = RoutingActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    apply_document(&mut active, &doc);
    match active.insert(db).await { // WRITE
        Ok(model) => created(model),
        Err(err) => internal_error(err),
    }
}
