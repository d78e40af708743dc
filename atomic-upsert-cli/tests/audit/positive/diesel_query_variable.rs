use diesel::prelude::*;

// The query is built into a variable and fetched later.
fn set_favorite(conn: &mut PgConnection, user: i32, cipher: i32) -> QueryResult<()> {
    let query = favorites::table
        .filter(favorites::user_id.eq(user))
        .filter(favorites::cipher_id.eq(cipher))
        .count();
    let count: i64 = query.first(conn)?; // READ
    if count == 0 {
        diesel::insert_into(favorites::table) // WRITE
            .values((favorites::user_id.eq(user), favorites::cipher_id.eq(cipher)))
            .execute(conn)?;
    }
    Ok(())
}
