// A service generic over its repository (`organization_repository: Arc<OR>` with `OR:
// OrganizationRepository` in the `where` clause): its calls are the implementors'.
use std::sync::Arc;

pub trait OrganizationRepository: Send + Sync {
    async fn exists_by_alias(&self, alias: &str) -> Result<bool, Error>;
    async fn create(&self, alias: &str) -> Result<(), Error>;
}

pub struct PostgresOrganizationRepository {
    pool: sqlx::PgPool,
}

impl OrganizationRepository for PostgresOrganizationRepository {
    async fn exists_by_alias(&self, alias: &str) -> Result<bool, Error> {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM organizations WHERE alias = $1")
            .bind(alias)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn create(&self, alias: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO organizations (alias) VALUES ($1)")
            .bind(alias)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

// Another type's `create` and `exists_by_alias`, which do something else: the names alone
// do not say which runs.
pub struct AuditLog {
    pool: sqlx::PgPool,
}

impl AuditLog {
    pub async fn exists_by_alias(&self, alias: &str) -> Result<bool, Error> {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM audit_aliases WHERE alias = $1")
            .bind(alias)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    pub async fn create(&self, alias: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO audit_log (alias) VALUES ($1)")
            .bind(alias)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub struct OrganizationService<OR>
where
    OR: OrganizationRepository,
{
    organization_repository: Arc<OR>,
}

impl<OR> OrganizationService<OR>
where
    OR: OrganizationRepository,
{
    pub async fn create_organization(&self, alias: &str) -> Result<(), Error> {
        if self.organization_repository.exists_by_alias(alias).await? { // READ
            return Err(Error::AlreadyExists);
        }
        self.organization_repository.create(alias).await?; // WRITE
        Ok(())
    }
}
