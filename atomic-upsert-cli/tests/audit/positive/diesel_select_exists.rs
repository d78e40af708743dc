use diesel::dsl::exists;
use diesel::prelude::*;

fn follow(conn: &mut PgConnection, follower: i32, followed: i32) -> QueryResult<()> {
    let already: bool = diesel::select(exists( // READ
        follows::table
            .filter(follows::follower_id.eq(follower))
            .filter(follows::followed_id.eq(followed)),
    ))
    .get_result(conn)?;
    if !already {
        diesel::insert_into(follows::table) // WRITE
            .values((follows::follower_id.eq(follower), follows::followed_id.eq(followed)))
            .execute(conn)?;
    }
    Ok(())
}
