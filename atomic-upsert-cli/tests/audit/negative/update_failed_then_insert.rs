use diesel::prelude::*;

// An update whose failure (not its "no row", which is `Ok(0)`) leads to an insert: the
// update's row count decides nothing here.
fn add_usage(conn: &mut PgConnection, dataset: i64, amount: i64) -> QueryResult<()> {
    let updated = diesel::update(usage::table.filter(usage::dataset_id.eq(dataset)))
        .set(usage::chunks.eq(usage::chunks + amount))
        .execute(conn);
    match updated {
        Ok(_) => Ok(()),
        Err(_) => {
            diesel::insert_into(usage::table)
                .values((usage::dataset_id.eq(dataset), usage::chunks.eq(amount)))
                .execute(conn)?;
            Ok(())
        }
    }
}
