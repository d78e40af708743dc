// A storage helper that turns its insert's failure into a `bool` (`Ok(res.is_ok())`): a
// duplicate from a concurrent caller is answered "not inserted", as `ON CONFLICT DO
// NOTHING` would, and the caller's check before it races nothing.
pub struct LfsStorage {
    db: DatabaseConnection,
}

impl LfsStorage {
    pub async fn get_lfs_object(&self, oid: &str) -> Result<Option<lfs_objects::Model>, Error> {
        Ok(lfs_objects::Entity::find_by_id(oid).one(&self.db).await?)
    }

    pub async fn new_lfs_object(&self, object: lfs_objects::ActiveModel) -> Result<bool, Error> {
        let res = lfs_objects::Entity::insert(object).exec(&self.db).await;
        Ok(res.is_ok())
    }
}

pub async fn batch(storage: &LfsStorage, oid: &str, object: lfs_objects::ActiveModel) -> Result<(), Error> {
    if storage.get_lfs_object(oid).await?.is_none() {
        storage.new_lfs_object(object).await?;
    }
    Ok(())
}
