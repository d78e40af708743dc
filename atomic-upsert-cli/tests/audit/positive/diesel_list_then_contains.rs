use diesel::prelude::*;
use std::collections::HashSet;

// The post's tags are loaded once; each new name not among them is inserted.
fn update_tags(conn: &mut PgConnection, post: i32, names: Vec<String>) -> QueryResult<()> {
    let old = tags::table
        .filter(tags::post_id.eq(post))
        .load::<Tag>(conn)?; // READ
    let old_names: HashSet<String> = old.iter().map(|t| t.name.clone()).collect();
    for name in names {
        if !old_names.contains(&name) {
            diesel::insert_into(tags::table) // WRITE
                .values((tags::post_id.eq(post), tags::name.eq(name)))
                .execute(conn)?;
        }
    }
    Ok(())
}
