use diesel::prelude::*;

// SQLite transactions that take the write lock at BEGIN (Diesel's `exclusive_transaction`,
// `immediate_transaction`): writers run one at a time, so the check and the insert in
// them cannot be split, whether written in the closure or in a function only such closures
// call, through the crate's own wrapper.
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
            .first::<(i64, String)>(conn)
            .optional()?;
        if found.is_some() {
            return Err(Error::Exists);
        }
        diesel::insert_into(accounts::table)
            .values(accounts::name.eq(name))
            .execute(conn)?;
        Ok(())
    }
}

pub fn create_account(conn: &mut SqliteConnection, name: &str) -> Result<(), Error> {
    exclusive_transaction(conn, |conn| Account::create(conn, name))
}

pub fn tag(conn: &mut SqliteConnection, label: &str) -> Result<(), Error> {
    conn.immediate_transaction(|conn| {
        let found = tags::table
            .filter(tags::label.eq(label))
            .first::<(i64, String)>(conn)
            .optional()?;
        if found.is_none() {
            diesel::insert_into(tags::table)
                .values(tags::label.eq(label))
                .execute(conn)?;
        }
        Ok(())
    })
}
