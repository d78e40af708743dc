use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

// The tours row is read, and made on `NotFound`; any other error is passed on, through a
// conversion that answers a duplicate key with a conflict. Two first visits at once both
// find no row and both insert: the second gets that conflict, not the row it asked for.
// (The `Err(e)` arm is the read failing, not what the code does with a row it found.)
pub fn find_by_user(user_id: Uuid, conn: &mut PgConnection) -> Result<GuidedTours, ServiceError> {
    let result = guided_tours::table.find(user_id).first::<GuidedTours>(conn); // READ
    match result {
        Ok(tours) => Ok(tours),
        Err(Error::NotFound) => Ok(diesel::insert_into(guided_tours::table) // WRITE
            .values(GuidedTours::new(user_id))
            .get_result(conn)?),
        Err(e) => Err(e.into()),
    }
}

impl From<Error> for ServiceError {
    fn from(e: Error) -> Self {
        match e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ServiceError::Conflict,
            _ => ServiceError::Internal,
        }
    }
}
