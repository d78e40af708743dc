// Whether the user is on the project's team, asked through a join on the user given; when
// not, the user is added: two transfers to one new owner both add them.
async fn ensure_member(pool: &sqlx::PgPool, project: i64, user: i64) -> Result<(), sqlx::Error> {
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT tm.id FROM projects p INNER JOIN team_members tm ON tm.team_id = p.team_id AND tm.user_id = $2 WHERE p.id = $1", // READ
    )
    .bind(project)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    if member.is_none() {
        sqlx::query("INSERT INTO team_members (team_id, user_id) SELECT team_id, $2 FROM projects WHERE id = $1") // WRITE
            .bind(project)
            .bind(user)
            .execute(pool)
            .await?;
    }
    Ok(())
}
