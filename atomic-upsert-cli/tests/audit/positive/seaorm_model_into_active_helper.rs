// A storage helper inserts a model its entity's constructor made
// (`Model::new(..).into_active_model().insert(db)`), reached through an accessor of the
// storage (`storage.cl_storage()`); the caller creates one only when its read found none.
pub struct Storage {
    db: DatabaseConnection,
}

impl Storage {
    pub fn cl_storage(&self) -> ClStorage {
        ClStorage { db: self.db.clone() }
    }
}

pub struct ClStorage {
    db: DatabaseConnection,
}

impl ClStorage {
    pub async fn get_open_cl_by_path(&self, path: &str) -> Result<Option<mega_cl::Model>, Error> {
        Ok(mega_cl::Entity::find()
            .filter(mega_cl::Column::Path.eq(path))
            .one(&self.db)
            .await?)
    }

    pub async fn new_cl_model(&self, path: &str) -> Result<mega_cl::Model, Error> {
        let model = mega_cl::Model::new(path.to_owned());
        Ok(model.into_active_model().insert(&self.db).await?)
    }
}

pub async fn update_or_create_cl(storage: &Storage, path: &str) -> Result<mega_cl::Model, Error> {
    match storage.cl_storage().get_open_cl_by_path(path).await? { // READ
        Some(cl) => Ok(cl),
        None => storage.cl_storage().new_cl_model(path).await, // WRITE
    }
}
