// The table is named by the row struct's `#[diesel(table_name = ..)]` and reached through
// `HasTable::table()` on it, for the read and for the insert.
#[derive(Queryable, Insertable)]
#[diesel(table_name = schema::entity)]
pub struct Entity {
    pub entity_id: String,
    pub enc_key_id: String,
}

impl Storage {
    async fn find_by_entity_id(&self, entity_id: &str) -> Result<Entity, DbError> {
        let mut conn = self.get_conn().await?;
        let query = Entity::table().filter(schema::entity::entity_id.eq(entity_id));
        let output: Entity = query.get_result(&mut conn).await?;
        Ok(output)
    }

    async fn insert_entity(&self, entity_id: &str, key: &str) -> Result<Entity, DbError> {
        let mut conn = self.get_conn().await?;
        diesel::insert_into(Entity::table())
            .values((schema::entity::entity_id.eq(entity_id), schema::entity::enc_key_id.eq(key)))
            .get_result(&mut conn)
            .await
    }
}

async fn find_or_create_entity(storage: &Storage, entity_id: &str) -> Result<Entity, DbError> {
    match storage.find_by_entity_id(entity_id).await { // READ
        Ok(entity) => Ok(entity),
        Err(error) if error.is_not_found() => storage.insert_entity(entity_id, "k").await, // WRITE
        Err(error) => Err(error),
    }
}
