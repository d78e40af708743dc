// The table's `dsl` module imported by name (`use schema::accounts::dsl;`), the read written
// `dsl::accounts.filter(..)`, and the insert through the new row's own `insert` method.
use diesel::prelude::*;

impl Account {
    pub fn by_name(conn: &PgConnection, name: &str) -> QueryResult<Option<Account>> {
        use crate::schema::accounts::dsl;
        dsl::accounts
            .filter(dsl::username.eq(name))
            .first::<Account>(conn)
            .optional()
    }
}

impl NewAccount {
    pub fn insert(self, conn: &PgConnection) -> QueryResult<Account> {
        diesel::insert_into(crate::schema::accounts::table)
            .values(&self)
            .get_result(conn)
    }
}

fn sign_up(conn: &PgConnection, name: &str) -> QueryResult<Option<Account>> {
    if let Ok(Some(_)) = Account::by_name(conn, name) { // READ
        return Ok(None);
    }
    let account = NewAccount { username: name.to_owned() }.insert(conn)?; // WRITE
    Ok(Some(account))
}
