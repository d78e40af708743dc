// A request dispatcher whose value is the response: one arm reads a receipt, another
// creates an account. The read decides nothing on the other arm.
async fn handle(pool: &sqlx::PgPool, request: Request) -> Result<Response, sqlx::Error> {
    let response = match request {
        Request::CheckReceipt { id } => {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE receipt = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Response::Receipt(found.is_some())
        }
        Request::CreateAccount { name } => {
            sqlx::query("INSERT INTO accounts (name) VALUES ($1)")
                .bind(&name)
                .execute(pool)
                .await?;
            Response::Created
        }
    };
    Ok(response)
}
