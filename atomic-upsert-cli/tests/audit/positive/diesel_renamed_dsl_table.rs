use crate::schema::invitations::dsl::{
    invitations as invitations_table, invitee_id as invitee_column,
    tournament_id as tournament_column,
};
use diesel::{dsl::exists, prelude::*, select};

// The table and its columns are imported under other names, and the row inserts itself
// (`invitation.insert_into(invitations_table)`): two invitations of one player at once both
// find none and both insert.
fn invite(conn: &mut PgConnection, tournament: Uuid, invitee: Uuid) -> QueryResult<()> {
    let invited: bool = select(exists( // READ
        invitations_table.filter(tournament_column.eq(tournament).and(invitee_column.eq(invitee))),
    ))
    .get_result(conn)?;
    if invited {
        return Ok(());
    }
    let invitation = Invitation::new(tournament, invitee);
    invitation.insert_into(invitations_table).execute(conn)?; // WRITE
    Ok(())
}
