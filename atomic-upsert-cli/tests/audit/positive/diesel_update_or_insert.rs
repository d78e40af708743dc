use diesel::prelude::*;

// Update the row when the read finds it, else insert: an upsert.
fn save_profile(conn: &mut PgConnection, email: &str, name: &str) -> QueryResult<()> {
    match users::table
        .filter(users::email.eq(email))
        .first::<User>(conn) // READ
        .optional()?
    {
        Some(user) => {
            diesel::update(users::table.find(user.id))
                .set(users::name.eq(name))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(users::table) // WRITE
                .values((users::email.eq(email), users::name.eq(name)))
                .execute(conn)?;
        }
    }
    Ok(())
}
