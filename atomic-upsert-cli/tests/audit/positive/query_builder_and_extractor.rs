// A handler takes the new project from its JSON extractor, checks the key through a query
// builder over sqlx that names the row type's table, and inserts through the same builder.
#[derive(Debug, Clone, FromRow, TableType)]
#[table(name = "projects")]
pub struct DBProject {
    pub id: Uuid,
    pub key: String,
}

impl DBProject {
    pub async fn find_by_key(key: &str, database: &PgPool) -> Result<Option<Self>, sqlx::Error> {
        SelectQueryBuilder::with_columns(DBProject::table_name(), Self::columns())
            .filter(DBProjectColumn::Key.equals(key.value()))
            .query_as()
            .fetch_optional(database)
            .await
    }
}

impl NewProject {
    pub async fn insert(self, db: &PgPool) -> Result<DBProject, sqlx::Error> {
        InsertQueryBuilder::new(DBProject::table_name())
            .insert(DBProjectColumn::Key, self.key.value())
            .return_all()
            .query_as()
            .fetch_one(db)
            .await
    }
}

pub async fn create_project(
    State(site): State<Site>,
    JsonBody(project): JsonBody<NewProject>,
) -> Result<Response, InternalError> {
    if DBProject::find_by_key(&project.key, &site.database).await?.is_some() { // READ
        return Ok(ConflictResponse::from("key").into_response());
    }
    let created = project.insert(&site.database).await?; // WRITE
    Ok(ResponseBuilder::ok().json(&created))
}
