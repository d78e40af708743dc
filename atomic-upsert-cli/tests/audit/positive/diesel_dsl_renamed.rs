use diesel::prelude::*;
use diesel_async::RunQueryDsl;

// The table's `dsl` imported under another name (`use schema::invoices::dsl as
// invoices_columns;`): its paths name the table all the same.
async fn record_invoice(conn: &mut AsyncPgConnection, stripe_id: String) -> Result<(), Error> {
    use crate::schema::invoices::dsl as invoices_columns;
    let found: Option<Invoice> = invoices_columns::invoices
        .filter(invoices_columns::stripe_id.eq(&stripe_id))
        .first::<Invoice>(conn) // READ
        .await
        .optional()?;
    if found.is_some() {
        return Err(Error::Exists);
    }
    diesel::insert_into(invoices_columns::invoices) // WRITE
        .values(invoices_columns::stripe_id.eq(&stripe_id))
        .execute(conn)
        .await?;
    Ok(())
}
