// A list read whose length is compared with a limit (`existing.len() >= limit`): a quota,
// not a check for the row about to be inserted (its id is fresh).
async fn create_firewall_rule(pool: &sqlx::PgPool, vm: i64, limit: u16, rule: Rule) -> Result<(), Error> {
    let existing: Vec<Rule> = sqlx::query_as("SELECT * FROM vm_firewall_rule WHERE vm_id = $1")
        .bind(vm)
        .fetch_all(pool)
        .await?;
    if existing.len() as u16 >= limit {
        return Err(Error::LimitReached);
    }
    sqlx::query("INSERT INTO vm_firewall_rule (vm_id, cidr) VALUES ($1, $2)")
        .bind(vm)
        .bind(rule.cidr)
        .execute(pool)
        .await?;
    Ok(())
}
