// One statement checks and inserts through an anti-join on its own table (`LEFT JOIN t g
// ON .. WHERE g.id IS NULL`): under READ COMMITTED two calls both see the name missing and
// both insert it. The SQL is bound to a variable; the statement is reported where it runs.
use diesel::prelude::*;

pub fn find_or_create(names: &[String], conn: &PgConnection) -> Result<usize, DatabaseError> {
    let query = r#"
        INSERT INTO genres (name)
        SELECT gn as name
        FROM unnest($1) gn
        LEFT JOIN genres g ON g.name = gn
        WHERE g.id IS NULL;
    "#;
    diesel::sql_query(query) // READ // WRITE
        .bind::<Array<Text>, _>(names)
        .execute(conn)
        .map_err(DatabaseError::from)
}
