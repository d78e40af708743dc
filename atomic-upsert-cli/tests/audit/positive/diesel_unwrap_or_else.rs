use diesel::prelude::*;

// Get-or-create in one expression: the insert runs in the closure when nothing was found.
fn get_or_create(conn: &mut PgConnection, name: &str) -> QueryResult<Tag> {
    tags::table
        .filter(tags::name.eq(name))
        .first::<Tag>(conn) // READ
        .optional()?
        .map(Ok)
        .unwrap_or_else(|| {
            diesel::insert_into(tags::table) // WRITE
                .values(tags::name.eq(name))
                .get_result(conn)
        })
}
