// Database code inside the codebase's own macro (`db_run! { conn: { .. } }`), and an early
// return written as `err!(..)`.
impl Membership {
    pub async fn save(&self, conn: &mut DbConn) -> EmptyResult {
        let exists = db_run! { conn: {
            memberships::table
                .filter(memberships::org_uuid.eq(&self.org_uuid))
                .filter(memberships::user_uuid.eq(&self.user_uuid))
                .first::<MembershipDb>(conn) // READ
                .optional()?
        }};
        if exists.is_some() {
            err!("The user is already a member")
        }
        db_run! { conn: {
            diesel::insert_into(memberships::table) // WRITE
                .values(MembershipDb::to_db(self))
                .execute(conn)?;
        }}
        Ok(())
    }
}
