use diesel::prelude::*;

// `use schema::devices::dsl::*;`: the table and its columns by their bare names.
fn register_device(conn: &mut PgConnection, user: i32, push_token: &str) -> QueryResult<()> {
    use crate::schema::devices::dsl::*;
    let found: Option<Device> = devices
        .filter(user_id.eq(user))
        .filter(token.eq(push_token))
        .first(conn) // READ
        .optional()?;
    if found.is_none() {
        diesel::insert_into(devices) // WRITE
            .values((user_id.eq(user), token.eq(push_token)))
            .execute(conn)?;
    }
    Ok(())
}
