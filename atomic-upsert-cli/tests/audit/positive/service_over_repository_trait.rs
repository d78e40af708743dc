use std::sync::Arc;

// A service holds its repository as a trait object; the Postgres implementation does the
// SQL, a stub for tests does nothing. The service's methods delegate under the same names.
trait FolderRepository {
    async fn get_by_path(&self, path: &str) -> Result<Folder, Error>;
    async fn create(&self, name: &str, parent: &str) -> Result<Folder, Error>;
}

struct PgFolderRepository {
    pool: sqlx::PgPool,
}

impl FolderRepository for PgFolderRepository {
    async fn get_by_path(&self, path: &str) -> Result<Folder, Error> {
        sqlx::query_as("SELECT id, path FROM folders WHERE path = $1")
            .bind(path)
            .fetch_one(&self.pool)
            .await
            .map_err(Error::from)
    }

    async fn create(&self, name: &str, parent: &str) -> Result<Folder, Error> {
        // The parent's owner, by the parent's id: a lookup, not the check.
        let owner: i64 = sqlx::query_scalar("SELECT owner FROM folders WHERE id = $1")
            .bind(parent)
            .fetch_one(&self.pool)
            .await?;
        sqlx::query_as("INSERT INTO folders (name, parent_id, owner) VALUES ($1, $2, $3) RETURNING id, path")
            .bind(name)
            .bind(parent)
            .bind(owner)
            .fetch_one(&self.pool)
            .await
            .map_err(Error::from)
    }
}

struct StubFolderRepository;

impl FolderRepository for StubFolderRepository {
    async fn get_by_path(&self, _path: &str) -> Result<Folder, Error> {
        Err(Error::NotFound)
    }

    async fn create(&self, _name: &str, _parent: &str) -> Result<Folder, Error> {
        Ok(Folder::default())
    }
}

struct FolderService {
    repository: Arc<dyn FolderRepository>,
}

impl FolderService {
    async fn get_by_path(&self, path: &str) -> Result<Folder, Error> {
        self.repository.get_by_path(path).await
    }

    async fn create(&self, name: &str, parent: &str) -> Result<Folder, Error> {
        self.repository.create(name, parent).await
    }
}

async fn make_collection(service: &FolderService, path: &str, parent: &str) -> Result<Folder, Error> {
    match service.get_by_path(path).await { // READ
        Ok(existing) => Ok(existing),
        Err(_) => service.create(path, parent).await, // WRITE
    }
}
