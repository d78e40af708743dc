use diesel::prelude::*;

// A COUNT compared with 0 is an existence check.
fn favorite(conn: &mut PgConnection, user: i32, cipher: i32) -> QueryResult<()> {
    let n: i64 = favorites::table
        .filter(favorites::user_id.eq(user))
        .filter(favorites::cipher_id.eq(cipher))
        .count()
        .get_result(conn)?; // READ
    if n == 0 {
        diesel::insert_into(favorites::table) // WRITE
            .values((favorites::user_id.eq(user), favorites::cipher_id.eq(cipher)))
            .execute(conn)?;
    }
    Ok(())
}
