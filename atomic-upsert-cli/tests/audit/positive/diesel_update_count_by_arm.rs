use diesel::prelude::*;

// The update's row count comes from whichever arm ran; when neither touched a row, insert:
// two callers can both update nothing and both insert.
fn bump(conn: &mut PgConnection, user: i64, thread: Option<&str>) -> QueryResult<()> {
    let rows = if let Some(thread) = thread {
        diesel::update(
            summaries::table
                .filter(summaries::user_id.eq(user))
                .filter(summaries::thread_id.eq(thread)),
        )
        .set(summaries::unread.eq(summaries::unread + 1))
        .execute(conn)?
    } else {
        diesel::update( // READ
            summaries::table
                .filter(summaries::user_id.eq(user))
                .filter(summaries::thread_id.is_null()),
        )
        .set(summaries::unread.eq(summaries::unread + 1))
        .execute(conn)?
    };
    if rows == 0 {
        diesel::insert_into(summaries::table) // WRITE
            .values((
                summaries::user_id.eq(user),
                summaries::thread_id.eq(thread),
                summaries::unread.eq(1),
            ))
            .execute(conn)?;
    }
    Ok(())
}
