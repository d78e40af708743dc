// A membership change rewrites the member's row: it deletes the row by its key, then inserts
// the new one, in one transaction. The read before it (is the user banned?) decides whether
// to go on, not whether the row exists: the insert replaces whatever was there.
use diesel::prelude::*;

fn set_membership(conn: &mut PgConnection, room: &str, user: &str, state: &str) -> QueryResult<()> {
    let banned = members::table
        .filter(members::room_id.eq(room))
        .filter(members::user_id.eq(user))
        .filter(members::state.eq("ban"))
        .first::<Member>(conn)
        .optional()?;
    if banned.is_some() {
        return Err(diesel::result::Error::NotFound);
    }
    conn.transaction(|conn| {
        diesel::delete(
            members::table
                .filter(members::room_id.eq(room))
                .filter(members::user_id.eq(user)),
        )
        .execute(conn)?;
        diesel::insert_into(members::table)
            .values((
                members::room_id.eq(room),
                members::user_id.eq(user),
                members::state.eq(state),
            ))
            .execute(conn)?;
        Ok(())
    })
}
