use diesel::dsl::{exists, select};
use diesel::prelude::*;

// A validation helper that fails when the row is missing (an ownership check) decides
// nothing about an insert into its table.
fn check_is_member(conn: &mut PgConnection, user: i32, group: i32) -> Result<(), ApiError> {
    select(exists(
        members::table
            .filter(members::user_id.eq(user))
            .filter(members::group_id.eq(group)),
    ))
    .get_result::<bool>(conn)?
    .then_some(())
    .ok_or(ApiError::NotAMember)
}

fn invite(conn: &mut PgConnection, user: i32, friend: i32, group: i32) -> Result<(), ApiError> {
    check_is_member(conn, user, group)?;
    diesel::insert_into(members::table)
        .values((members::user_id.eq(friend), members::group_id.eq(group)))
        .execute(conn)?;
    Ok(())
}
