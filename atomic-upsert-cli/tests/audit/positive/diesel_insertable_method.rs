use diesel::prelude::*;

// Diesel's `Insertable::insert_into`, called on the row.
fn add_tag(conn: &mut PgConnection, name: &str) -> QueryResult<()> {
    let query = diesel::select(diesel::dsl::exists(tag::table.filter(tag::name.eq(name)))); // READ
    let exists: bool = query.get_result(conn)?;
    if !exists {
        NewTag { name }.insert_into(tag::table).execute(conn)?; // WRITE
    }
    Ok(())
}
