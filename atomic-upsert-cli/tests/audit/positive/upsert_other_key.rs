use diesel::prelude::*;

// `save` upserts by `uuid`; the check was by `email`: two sign-ups with one email both pass
// the check and insert two rows with fresh uuids (or fail on the email's unique index).
impl User {
    pub fn find_by_mail(mail: &str, conn: &mut PgConnection) -> Option<Self> {
        users::table.filter(users::email.eq(mail)).first::<Self>(conn).ok()
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

fn register(conn: &mut PgConnection, email: &str) -> Result<(), ApiError> {
    if User::find_by_mail(email, conn).is_some() { // READ
        return Err(ApiError::AlreadyExists);
    }
    let user = User::new(email);
    user.save(conn)?; // WRITE
    Ok(())
}
