// A method taking `&self` of a struct that holds a pool: two callers run it at once, so
// both can find the name free and both insert.
use diesel::prelude::*;

pub struct LoginDatabase {
    pool: Pool<ConnectionManager<SqliteConnection>>,
}

impl LoginDatabase {
    pub fn add_user(&self, name: &str) -> bool {
        let conn = &mut self.pool.get().unwrap();
        let taken = users::table
            .filter(users::username.eq(name))
            .first::<User>(conn) // READ
            .optional()
            .unwrap_or(None);
        if taken.is_some() {
            return false;
        }
        diesel::insert_into(users::table) // WRITE
            .values(users::username.eq(name))
            .execute(conn)
            .is_ok()
    }
}
