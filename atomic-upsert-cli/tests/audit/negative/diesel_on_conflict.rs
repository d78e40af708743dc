use diesel::prelude::*;

fn find_or_create(conn: &mut PgConnection, email: &str) -> QueryResult<()> {
    let found = users::table
        .filter(users::email.eq(email))
        .first::<User>(conn)
        .optional()?;
    if found.is_none() {
        diesel::insert_into(users::table)
            .values(users::email.eq(email))
            .on_conflict(users::email)
            .do_nothing()
            .execute(conn)?;
    }
    Ok(())
}
