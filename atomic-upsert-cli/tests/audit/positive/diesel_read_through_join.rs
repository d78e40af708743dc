// The sign-in looks the user up through a join on the identity table; no row means no
// identity yet, and the identity is inserted. The read of the join is a read of each
// joined table.
use diesel::prelude::*;

fn sign_in(conn: &mut PgConnection, issuer: &str, subject: &str, user: i32) -> QueryResult<i32> {
    let found = accounts::table
        .inner_join(identities::table)
        .filter(identities::issuer.eq(issuer))
        .filter(identities::subject.eq(subject))
        .select(accounts::id)
        .first::<i32>(conn) // READ
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    diesel::insert_into(identities::table) // WRITE
        .values((
            identities::issuer.eq(issuer),
            identities::subject.eq(subject),
            identities::account_id.eq(user),
        ))
        .execute(conn)?;
    Ok(user)
}
