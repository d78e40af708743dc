use diesel::prelude::*;

fn find_or_create(conn: &mut PgConnection, email: &str) -> QueryResult<()> {
    let found = users::table
        .filter(users::email.eq(email))
        .first::<User>(conn) // READ
        .optional()?;
    if found.is_none() {
        diesel::insert_into(users::table) // WRITE
            .values(users::email.eq(email))
            .execute(conn)?;
    }
    Ok(())
}
