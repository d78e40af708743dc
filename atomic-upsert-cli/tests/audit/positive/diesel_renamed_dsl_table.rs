use crate::schema::transaction_logs::dsl::{id as dsl_id, transaction_logs as dsl_transaction_logs};
use diesel::prelude::*;

// The table imported from its `dsl` under another name (`transaction_logs as
// dsl_transaction_logs`): reads through that name are reads of the table.
fn log_submitted(conn: &mut SqliteConnection, id: &str, block: i64) -> Result<(), Error> {
    match dsl_transaction_logs
        .filter(dsl_id.eq(id))
        .get_result::<TransactionLog>(conn) // READ
    {
        Ok(_) => {
            diesel::update(dsl_transaction_logs.filter(dsl_id.eq(id)))
                .set(crate::schema::transaction_logs::submitted.eq(block))
                .execute(conn)?;
        }
        Err(diesel::result::Error::NotFound) => {
            diesel::insert_into(crate::schema::transaction_logs::table) // WRITE
                .values((dsl_id.eq(id), crate::schema::transaction_logs::submitted.eq(block)))
                .execute(conn)?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
