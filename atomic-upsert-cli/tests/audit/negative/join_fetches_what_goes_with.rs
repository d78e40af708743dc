// A project read with its categories joined on its own id (what goes with the row, not a
// check for a category given): the categories written after are decided by nothing read.
async fn set_category(pool: &sqlx::PgPool, project: i64, category: i64) -> Result<(), sqlx::Error> {
    let found: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT p.id, c.category_id FROM projects p LEFT JOIN project_categories c ON c.project_id = p.id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_optional(pool)
    .await?;
    if found.is_some() {
        sqlx::query("INSERT INTO project_categories (project_id, category_id) VALUES ($1, $2)")
            .bind(project)
            .bind(category)
            .execute(pool)
            .await?;
    }
    Ok(())
}
