use diesel::prelude::*;

// Unconditional code inside a transaction closure: a count, then an event appended.
fn record(conn: &mut PgConnection, user: i64) -> QueryResult<i64> {
    conn.transaction(|c| {
        let seen = events::table
            .filter(events::user_id.eq(user))
            .count()
            .get_result::<i64>(c)?;
        diesel::insert_into(events::table)
            .values(events::user_id.eq(user))
            .execute(c)?;
        Ok(seen)
    })
}
