use sea_orm::*;

// The canonical URL is looked up; when no task has it, an empty model is filled in field by
// field (`ActiveModel::new()`) and inserted: two crawls of one page both insert it.
async fn canonical_task(db: &DatabaseConnection, domain: String, url: &str) -> Result<crawl_queue::Model, DbErr> {
    let existing = crawl_queue::Entity::find()
        .filter(crawl_queue::Column::Url.eq(url))
        .one(db) // READ
        .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let mut canonical = crawl_queue::ActiveModel::new();
    canonical.domain = Set(domain);
    canonical.url = Set(url.to_string());
    canonical.insert(db).await // WRITE
}
