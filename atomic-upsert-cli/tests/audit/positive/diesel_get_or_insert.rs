use diesel::prelude::*;

// Hand back the row the read found, else insert it and hand that back: insert or get.
fn tag_named(conn: &mut PgConnection, name: &str) -> QueryResult<Tag> {
    if let Some(tag) = tags::table
        .filter(tags::name.eq(name))
        .first::<Tag>(conn) // READ
        .optional()?
    {
        return Ok(tag);
    }
    diesel::insert_into(tags::table) // WRITE
        .values(tags::name.eq(name))
        .get_result(conn)
}
