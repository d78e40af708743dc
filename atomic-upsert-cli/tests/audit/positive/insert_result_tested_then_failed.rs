// An insert's result tested with `is_ok()` and turned into an error when it failed: the
// duplicate still fails the caller (not the `Ok(res.is_ok())` of a helper that answers
// "not inserted").
pub async fn add_lock(db: &DatabaseConnection, repo: &str, data: String) -> Result<(), Error> {
    if lfs_locks::Entity::find_by_id(repo).one(db).await?.is_some() { // READ
        return Err(Error::Locked);
    }
    let lock = lfs_locks::ActiveModel {
        id: Set(repo.to_owned()),
        data: Set(data),
    };
    let res = lfs_locks::Entity::insert(lock).exec(db).await; // WRITE
    match res.is_ok() {
        true => Ok(()),
        false => Err(Error::General),
    }
}
