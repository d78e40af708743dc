use diesel::dsl::{exists, not, select};
use diesel::prelude::*;

// The check is a validation helper with no `if`: the read's bool becomes the error.
impl Person {
    fn check_name_taken(conn: &mut PgConnection, name: &str) -> Result<(), ApiError> {
        select(not(exists(person::table.filter(person::name.eq(name)))))
            .get_result::<bool>(conn)?
            .then_some(())
            .ok_or(ApiError::NameTaken)
    }

    fn create(conn: &mut PgConnection, form: &PersonForm) -> Result<Person, ApiError> {
        Ok(diesel::insert_into(person::table)
            .values(form)
            .get_result(conn)?)
    }
}

fn register(conn: &mut PgConnection, form: &PersonForm) -> Result<Person, ApiError> {
    Person::check_name_taken(conn, &form.name)?; // READ
    Person::create(conn, form) // WRITE
}
