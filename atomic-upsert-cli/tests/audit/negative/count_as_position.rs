// A `COUNT` used as the new row's position, not compared: its `.ok_or_else(..)?` leaves
// when the count is NULL, which says nothing of whether the row exists (the row's id is
// fresh). An exit inside that closure (a `return`, as a crate's error macro may expand
// to) is taken for `None`.
async fn create_category(db: &mut sqlx::PgConnection, sphere: i64, id: i64, name: &str) -> Result<(), Error> {
    let position = sqlx::query!("SELECT COUNT(id) FROM categories WHERE sphere_id = $1", sphere)
        .fetch_one(&mut *db)
        .await?
        .count
        .ok_or_else(|| {
            log::error!("no count for sphere {sphere}");
            return Error::Server("no count");
        })?;
    sqlx::query("INSERT INTO categories (id, sphere_id, name, position) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(sphere)
        .bind(name)
        .bind(position)
        .execute(&mut *db)
        .await?;
    Ok(())
}
