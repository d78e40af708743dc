// The groups already stored are loaded, the wanted ones missing from them are kept, and
// those are inserted when there are any: two logins with the same new group both insert
// it. (Whether the kept list is empty says nothing of whether the read found rows.)
pub fn get_or_create_groups(conn: &mut DbConnection, wanted: &[String]) -> Result<Vec<Group>> {
    let mut query = groups::table.select(groups::all_columns).into_boxed();
    for name in wanted {
        query = query.or_filter(groups::name.eq(name));
    }
    let mut present: Vec<Group> = query.load(conn)?; // READ
    let missing: Vec<NewGroup> = wanted
        .iter()
        .filter(|name| !present.iter().any(|group| group.name == **name))
        .map(|name| NewGroup { name })
        .collect();
    if !missing.is_empty() {
        let created: Vec<Group> = diesel::insert_into(groups::table) // WRITE
            .values(&missing)
            .load(conn)?;
        present.extend(created);
    }
    Ok(present)
}
