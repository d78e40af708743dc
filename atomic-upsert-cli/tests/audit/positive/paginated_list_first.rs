// The first invite of a room, from a paginated list read (its rows and their count in a
// tuple), or a new one inserted: two callers for a room without one both insert.
impl Invite {
    pub fn get_all_for_room_paginated(
        conn: &mut DbConnection,
        room: RoomId,
        limit: i64,
        page: i64,
    ) -> Result<(Vec<Invite>, i64)> {
        let rows: Vec<Invite> = invites::table
            .filter(invites::room.eq(room))
            .limit(limit)
            .offset((page - 1) * limit)
            .load(conn)?;
        let total = rows.len() as i64;
        Ok((rows, total))
    }

    pub fn get_first_for_room(conn: &mut DbConnection, room: RoomId, user: UserId) -> Result<Invite> {
        let (invites_for_room, _) = Invite::get_all_for_room_paginated(conn, room, 1, 1)?; // READ
        let first = invites_for_room.into_iter().next();
        let invite = if let Some(invite) = first {
            invite
        } else {
            NewInvite { room, created_by: user }.insert(conn)? // WRITE
        };
        Ok(invite)
    }
}

impl NewInvite {
    pub fn insert(self, conn: &mut DbConnection) -> Result<Invite> {
        Ok(self.insert_into(invites::table).get_result(conn)?)
    }
}
