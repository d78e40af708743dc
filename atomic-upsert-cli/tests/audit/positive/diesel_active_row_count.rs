// Bans that have not expired yet (`expires_at > now`), counted: a check that an active ban
// exists, not a window of recent rows. Two moderators can both count none and both insert.
use diesel::prelude::*;

fn ban(conn: &mut PgConnection, board: i32, user: i32) -> QueryResult<()> {
    let active: i64 = board_user_bans::table
        .filter(board_user_bans::board_id.eq(board))
        .filter(board_user_bans::user_id.eq(user))
        .filter(board_user_bans::expires_at.gt(chrono::Utc::now()))
        .count()
        .get_result(conn)?; // READ
    if active > 0 {
        return Ok(());
    }
    diesel::insert_into(board_user_bans::table) // WRITE
        .values((board_user_bans::board_id.eq(board), board_user_bans::user_id.eq(user)))
        .execute(conn)?;
    Ok(())
}
