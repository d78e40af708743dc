use diesel::prelude::*;

// The slug is looked for as the input gives it, and suffixed when a race has it: two
// races created at once with one slug both find it free and both insert it.
fn create_race(conn: &mut PgConnection, input: &NewRaceInput) -> QueryResult<Race> {
    let mut slug = input.slug.clone();
    let taken = race::table
        .filter(race::slug.eq(&input.slug))
        .first::<Race>(conn) // READ
        .optional()?;
    if taken.is_some() {
        slug = format!("{}-{}", input.slug, rand::random::<u32>());
    }
    diesel::insert_into(race::table) // WRITE
        .values((race::slug.eq(&slug), race::title.eq(&input.title)))
        .get_result(conn)
}
