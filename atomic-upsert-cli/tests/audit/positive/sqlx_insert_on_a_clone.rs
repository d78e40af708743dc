// The slug is looked up, then the organization inserts itself through a clone of it
// (`organization.clone().insert(..)`): a method of the value, whatever the clone.
#[derive(Clone)]
struct Organization {
    slug: String,
}

impl Organization {
    async fn by_slug(slug: &str, pool: &sqlx::PgPool) -> Result<Option<Organization>, sqlx::Error> {
        sqlx::query_as("SELECT slug FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await
    }

    async fn insert(self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO organizations (slug) VALUES ($1)")
            .bind(&self.slug)
            .execute(pool)
            .await?;
        Ok(())
    }
}

async fn create(pool: &sqlx::PgPool, slug: String) -> Result<Organization, Error> {
    if Organization::by_slug(&slug, pool).await?.is_some() { // READ
        return Err(Error::SlugTaken);
    }
    let organization = Organization { slug };
    organization.clone().insert(pool).await?; // WRITE
    Ok(organization)
}
