use diesel::prelude::*;

// The caller's own role is read, and the new role is inserted only when the caller holds a
// higher one (`then_some(()).ok_or_else(..)?` errs when the read finds none): the insert
// needs the row found, it does not fill in a missing one.
impl Role {
    pub fn create(conn: &mut PgConnection, user: Uuid, role: NewRole) -> Result<Self, ApiError> {
        has_higher_privilege(conn, user, role.level)
            .then_some(())
            .ok_or_else(|| ApiError::Forbidden("not above this role"))?;
        let role = diesel::insert_into(roles::table)
            .values(role)
            .get_result(conn)?;
        Ok(role)
    }
}

fn has_higher_privilege(conn: &mut PgConnection, user: Uuid, level: i32) -> bool {
    roles::table
        .filter(roles::user_id.eq(user))
        .filter(roles::level.gt(level))
        .first::<Role>(conn)
        .optional()
        .ok()
        .flatten()
        .is_some()
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiError::Conflict,
            _ => ApiError::Internal,
        }
    }
}
