// Each model's insertable value is made by a constructor and inserted by its own
// `commit`, a name every model has (`EventUser::create(..).commit(conn)` is
// `NewEventUser::commit`, by what `create` returns). The insert helper maps errors
// through the crate's `wrap`, which turns a unique violation into an error in a `match`
// arm: that answers a check that rejects, not one that updates the row it found.
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

impl DatabaseError {
    pub fn wrap<T>(message: &str, res: Result<T, DieselError>) -> Result<T, DatabaseError> {
        match res {
            Ok(val) => Ok(val),
            Err(DieselError::DatabaseError(kind, _)) => match kind {
                DatabaseErrorKind::UniqueViolation => {
                    Err(DatabaseError::new(ErrorCode::DuplicateKeyError, message))
                }
                _ => Err(DatabaseError::new(ErrorCode::QueryError, message)),
            },
            Err(_) => Err(DatabaseError::new(ErrorCode::QueryError, message)),
        }
    }
}

impl NewEventUser {
    pub fn commit(&self, conn: &PgConnection) -> Result<EventUser, DatabaseError> {
        DatabaseError::wrap(
            "Could not add user to event",
            diesel::insert_into(event_users::table).values(self).get_result(conn),
        )
    }
}

impl NewVenue {
    pub fn commit(&self, conn: &PgConnection) -> Result<Venue, DatabaseError> {
        DatabaseError::wrap(
            "Could not create venue",
            diesel::insert_into(venues::table).values(self).get_result(conn),
        )
    }
}

impl EventUser {
    pub fn create(user_id: Uuid, event_id: Uuid, role: Roles) -> NewEventUser {
        NewEventUser { user_id, event_id, role }
    }

    pub fn find_by_event_id_user_id(event_id: Uuid, user_id: Uuid, conn: &PgConnection) -> Result<EventUser, DatabaseError> {
        DatabaseError::wrap(
            "Unable to load event user",
            event_users::table
                .filter(event_users::event_id.eq(event_id))
                .filter(event_users::user_id.eq(user_id))
                .first(conn),
        )
    }

    pub fn update_or_create(user_id: Uuid, event_ids: &[Uuid], role: Roles, conn: &PgConnection) -> Result<(), DatabaseError> {
        for event_id in event_ids {
            if let Some(event_user) = EventUser::find_by_event_id_user_id(*event_id, user_id, conn).optional()? { // READ
                event_user.update(role, conn)?;
            } else {
                EventUser::create(user_id, *event_id, role).commit(conn)?; // WRITE
            }
        }
        Ok(())
    }
}
