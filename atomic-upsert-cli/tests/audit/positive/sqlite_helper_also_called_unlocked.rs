use diesel::prelude::*;

// The same account helper as in the negative fixture `sqlite_write_locking_transaction`,
// but one caller runs it outside the write-locking transaction: that call races.
pub fn exclusive_transaction<T, E, F>(conn: &mut SqliteConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.exclusive_transaction(f)
}

pub struct Account;

impl Account {
    pub fn create(conn: &mut SqliteConnection, name: &str) -> Result<(), Error> {
        let found = accounts::table
            .filter(accounts::name.eq(name))
            .first::<(i64, String)>(conn) // READ
            .optional()?;
        if found.is_some() {
            return Err(Error::Exists);
        }
        diesel::insert_into(accounts::table) // WRITE
            .values(accounts::name.eq(name))
            .execute(conn)?;
        Ok(())
    }
}

pub fn create_account(conn: &mut SqliteConnection, name: &str) -> Result<(), Error> {
    exclusive_transaction(conn, |conn| Account::create(conn, name))
}

pub fn import_account(conn: &mut SqliteConnection, name: &str) -> Result<(), Error> {
    Account::create(conn, name)
}
