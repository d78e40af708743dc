// A helper that saves the `SeaORM` model it is given (`model: mega_refs::Model`, then
// `model.into_active_model().insert(..)`), called for each update whose key a map built
// from a list read lacks.
use std::collections::HashMap;

pub struct MonoStorage {
    db: DatabaseConnection,
}

impl MonoStorage {
    pub async fn save_refs(&self, model: mega_refs::Model) -> Result<(), Error> {
        model.into_active_model().insert(&self.db).await?;
        Ok(())
    }

    pub async fn batch_update(&self, updates: Vec<RefUpdate>) -> Result<(), Error> {
        let existing: Vec<mega_refs::Model> = mega_refs::Entity::find()
            .filter(mega_refs::Column::Path.is_in(updates.iter().map(|u| u.path.clone())))
            .all(&self.db) // READ
            .await?;
        let by_path: HashMap<String, mega_refs::Model> =
            existing.into_iter().map(|r| (r.path.clone(), r)).collect();
        for update in updates {
            if let Some(found) = by_path.get(&update.path) {
                let mut active: mega_refs::ActiveModel = found.clone().into();
                active.commit = Set(update.commit);
                active.update(&self.db).await?;
            } else {
                let model = mega_refs::Model::new(&update.path, update.commit);
                self.save_refs(model).await?; // WRITE
            }
        }
        Ok(())
    }
}
