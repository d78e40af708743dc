// A clean-up of other rows (`ne_all`) before the check does not make the insert a rewrite:
// the counter row is still read, found missing, and inserted, and two callers race on it.
use diesel::prelude::*;

fn refresh(conn: &mut PgConnection, user: &str, threads: &[String], thread: &str) -> QueryResult<()> {
    diesel::delete(
        summaries::table
            .filter(summaries::user_id.eq(user))
            .filter(summaries::thread_id.ne_all(threads)),
    )
    .execute(conn)?;
    let found = summaries::table
        .filter(summaries::user_id.eq(user))
        .filter(summaries::thread_id.eq(thread))
        .first::<Summary>(conn) // READ
        .optional()?;
    if found.is_none() {
        diesel::insert_into(summaries::table) // WRITE
            .values((summaries::user_id.eq(user), summaries::thread_id.eq(thread)))
            .execute(conn)?;
    }
    Ok(())
}
