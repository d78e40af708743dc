// The login database owns its one SQLite connection, and its methods take `&mut self`:
// whoever calls `add_user` has the database to itself (the server keeps it behind a mutex),
// so the check and the insert cannot interleave with another call.
use diesel::prelude::*;

pub struct LoginDatabase {
    connection: SqliteConnection,
}

impl LoginDatabase {
    pub fn add_user(&mut self, name: &str) -> bool {
        let taken = users::table
            .filter(users::username.eq(name))
            .first::<User>(&mut self.connection)
            .optional()
            .unwrap_or(None);
        if taken.is_some() {
            return false;
        }
        diesel::insert_into(users::table)
            .values(users::username.eq(name))
            .execute(&mut self.connection)
            .is_ok()
    }
}
