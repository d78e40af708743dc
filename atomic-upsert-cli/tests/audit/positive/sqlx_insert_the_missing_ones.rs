use std::collections::HashSet;

// The keywords already stored, then an insert for each wanted one a filter found missing:
// two releases with a new keyword both find it missing and both insert it.
async fn add_keywords(conn: &mut sqlx::PgConnection, wanted: &[String]) -> Result<(), sqlx::Error> {
    let existing: HashSet<String> = sqlx::query_scalar("SELECT slug FROM keywords WHERE slug = ANY($1)") // READ
        .bind(wanted)
        .fetch(&mut *conn)
        .try_collect()
        .await?;
    for slug in wanted.iter().filter(|slug| !existing.contains(*slug)) {
        sqlx::query("INSERT INTO keywords (slug) VALUES ($1)") // WRITE
            .bind(slug)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
