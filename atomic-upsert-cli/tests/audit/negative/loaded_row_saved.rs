use diesel::prelude::*;

// The row was loaded by its key and is saved (upserted) by the same key: an update.
impl User {
    pub fn find_by_uuid(uuid: &str, conn: &mut PgConnection) -> Option<Self> {
        users::table.filter(users::uuid.eq(uuid)).first::<Self>(conn).ok()
    }

    pub fn save(&self, conn: &mut PgConnection) -> QueryResult<usize> {
        diesel::insert_into(users::table)
            .values(self)
            .on_conflict(users::uuid)
            .do_update()
            .set(self)
            .execute(conn)
    }
}

fn rename(conn: &mut PgConnection, uuid: &str, name: &str) -> Result<(), ApiError> {
    let Some(mut user) = User::find_by_uuid(uuid, conn) else {
        return Err(ApiError::NotFound);
    };
    user.name = name.to_owned();
    user.save(conn)?;
    Ok(())
}
