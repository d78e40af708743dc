// The row is the one found, or a new one made in its place; it is saved after checks that
// look at neither: saving the new one inserts what a concurrent call may insert too.
async fn activate(conn: &DbConn, user: &str, data: &Data) -> Result<(), Error> {
    let mut factor = match TwoFactor::find_by_user(user, conn).await { // READ
        Some(found) => found,
        None => TwoFactor::new(user.to_string()),
    };
    if data.keys.is_empty() {
        return Err(Error::NoKey);
    }
    factor.data = data.encode();
    factor.save(conn).await?; // WRITE
    Ok(())
}

impl TwoFactor {
    pub async fn find_by_user(user: &str, conn: &DbConn) -> Option<TwoFactor> {
        twofactor::table
            .filter(twofactor::user_uuid.eq(user))
            .first(conn)
            .await
            .ok()
    }

    pub async fn save(&self, conn: &DbConn) -> QueryResult<()> {
        diesel::insert_into(twofactor::table)
            .values(self)
            .execute(conn)
            .await
            .map(|_| ())
    }
}
