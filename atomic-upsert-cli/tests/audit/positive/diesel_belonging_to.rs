use diesel::prelude::*;

#[derive(Insertable, Identifiable, Queryable, Associations)]
#[diesel(belongs_to(Tournament))]
#[diesel(table_name = tournaments_users)]
pub struct TournamentUser {
    pub tournament_id: Uuid,
    pub user_id: Uuid,
}

// The players are read as the tournament's children (`belonging_to`), and the player is
// added when not among them: two joins of one player at once both pass and both insert.
impl Tournament {
    pub fn join(&self, user_id: Uuid, conn: &mut PgConnection) -> QueryResult<()> {
        let players: Vec<User> = TournamentUser::belonging_to(self)
            .inner_join(users::table)
            .select(User::as_select())
            .get_results(conn)?; // READ
        if players.iter().any(|player| player.id == user_id) {
            return Ok(());
        }
        diesel::insert_into(tournaments_users::table) // WRITE
            .values(TournamentUser { tournament_id: self.id, user_id })
            .execute(conn)?;
        Ok(())
    }
}
