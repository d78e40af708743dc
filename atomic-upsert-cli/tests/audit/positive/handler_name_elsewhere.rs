// A login reads the user, and creates one when missing through `NewUser::insert`. Another
// type's `insert` in the crate retries on a unique violation with a new id: that handles
// its own insert, not every function named `insert`.
impl NewUser {
    pub fn insert(self, conn: &mut DbConnection) -> Result<User> {
        let query = self.insert_into(users::table);
        let user = query.get_result(conn)?;
        Ok(user)
    }
}

impl User {
    pub fn get_by_oidc_sub(conn: &mut DbConnection, sub: &str) -> Result<Option<User>> {
        let user = users::table
            .filter(users::oidc_sub.eq(sub))
            .get_result(conn)
            .optional()?;
        Ok(user)
    }
}

impl NewSipConfig {
    pub fn insert(mut self, conn: &mut DbConnection) -> Result<SipConfig> {
        for _ in 0..3 {
            let query = self.clone().insert_into(sip_configs::table);
            match query.get_result(conn) {
                Ok(config) => return Ok(config),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => self.regenerate_id(),
                Err(e) => return Err(e.into()),
            }
        }
        Err(DatabaseError::custom("collision"))
    }
}

pub fn login(conn: &mut DbConnection, sub: String) -> Result<User> {
    match User::get_by_oidc_sub(conn, &sub)? { // READ
        Some(user) => Ok(user),
        None => NewUser { oidc_sub: sub }.insert(conn), // WRITE
    }
}
