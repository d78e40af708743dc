// The insert's unique violation becomes an HTTP 409 where it is made; the caller tests for
// that conflict and looks the row up again: a lost race is handled, not an error.
use diesel::prelude::*;

fn is_conflict(error: &HttpError) -> bool {
    error.status == StatusCode::CONFLICT
}

impl Label {
    pub fn create(conn: &mut PgConnection, project: i32, name: &str) -> Result<Label, HttpError> {
        diesel::insert_into(labels::table)
            .values((labels::project.eq(project), labels::name.eq(name)))
            .get_result(conn)
            .map_err(conflict_on_unique)
    }

    pub fn get_or_create(conn: &mut PgConnection, project: i32, name: &str) -> Result<Label, HttpError> {
        if let Ok(found) = labels::table
            .filter(labels::project.eq(project))
            .filter(labels::name.eq(name))
            .first::<Label>(conn)
        {
            return Ok(found);
        }
        match Label::create(conn, project, name) {
            Ok(label) => Ok(label),
            Err(e) if is_conflict(&e) => labels::table
                .filter(labels::project.eq(project))
                .filter(labels::name.eq(name))
                .first::<Label>(conn)
                .map_err(|_| e),
            Err(e) => Err(e),
        }
    }
}
