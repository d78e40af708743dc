// The link is read to skip an unchanged one; then the project's links for the platforms sent
// are deleted and written again: a rewrite of those rows, not "no row, insert".
async fn edit_link(pool: &sqlx::PgPool, project: i64, platforms: &[i64], url: &str) -> Result<(), sqlx::Error> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT url FROM project_links WHERE project_id = $1 AND platform_id = $2")
            .bind(project)
            .bind(platforms[0])
            .fetch_optional(pool)
            .await?;
    if current.as_deref() == Some(url) {
        return Ok(());
    }
    sqlx::query("DELETE FROM project_links WHERE project_id = $1 AND platform_id IN (SELECT id FROM platforms WHERE id = ANY($2))")
        .bind(project)
        .bind(platforms)
        .execute(pool)
        .await?;
    for platform in platforms {
        sqlx::query("INSERT INTO project_links (project_id, platform_id, url) VALUES ($1, $2, $3)")
            .bind(project)
            .bind(platform)
            .bind(url)
            .execute(pool)
            .await?;
    }
    Ok(())
}
