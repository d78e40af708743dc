// `main` loads the site's settings, or writes the defaults when there are none. The closure of
// `unwrap_or_else` runs there and then, at most once, so `write_defaults` runs only at
// startup, and its check and insert cannot race.
use diesel::prelude::*;

fn main() {
    let conn = &mut establish();
    let settings = load_settings(conn).unwrap_or_else(|_| write_defaults(conn));
    serve(settings);
}

fn write_defaults(conn: &mut PgConnection) -> Settings {
    let found = settings::table
        .filter(settings::name.eq("site"))
        .first::<Settings>(conn)
        .optional()
        .expect("read");
    match found {
        Some(settings) => settings,
        None => diesel::insert_into(settings::table)
            .values(settings::name.eq("site"))
            .get_result(conn)
            .expect("insert"),
    }
}
