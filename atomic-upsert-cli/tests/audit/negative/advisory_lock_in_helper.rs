// The advisory lock is taken by a helper the function calls first, inside the transaction:
// every writer of the key takes it, so the check and the insert cannot interleave.
use diesel::prelude::*;

fn lock_key(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)?;
    Ok(())
}

fn set_setting(conn: &mut PgConnection, key: &str, value: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        lock_key(conn, key)?;
        let found = settings::table
            .filter(settings::key.eq(key))
            .first::<Setting>(conn)
            .optional()?;
        if found.is_none() {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(value)))
                .execute(conn)?;
        }
        Ok(())
    })
}
