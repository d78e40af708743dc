// A `match` on a read whose only arm that goes on is one with the row found
// (`Ok(Some(bond)) if .. => {}`; `Ok(_)` and `Err(_)` return): the insert after it runs
// with the row there, so it is not "no row, insert" (the bond inserted is a new child of
// the one read).
async fn settle(pool: &sqlx::PgPool, order: i64) {
    match sqlx::query_as::<_, Bond>("SELECT * FROM bonds WHERE order_id = $1")
        .bind(order)
        .fetch_optional(pool)
        .await
    {
        Ok(Some(bond)) if bond.state == "locked" => {}
        Ok(_) => return,
        Err(_) => return,
    }
    let _ = sqlx::query("INSERT INTO bonds (order_id, parent) VALUES ($1, $2)")
        .bind(order)
        .bind(order)
        .execute(pool)
        .await;
}
