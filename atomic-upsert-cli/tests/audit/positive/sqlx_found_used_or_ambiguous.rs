// The access rule found is reused (its id linked), and only an ambiguous match errs: what
// the code does with the row it finds is use it, so the fix is an insert-or-get.
async fn access_rule(pool: &sqlx::PgPool, user: &str, path: &str) -> Result<i64, Error> {
    let rules: Vec<(i64,)> = sqlx::query_as("SELECT id FROM access_rules WHERE user_id = $1 AND path = $2") // READ
        .bind(user)
        .bind(path)
        .fetch_all(pool)
        .await?;
    let id = if rules.is_empty() {
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO access_rules (user_id, path) VALUES ($1, $2) RETURNING id") // WRITE
                .bind(user)
                .bind(path)
                .fetch_one(pool)
                .await?;
        id
    } else if rules.len() == 1 {
        rules[0].0
    } else {
        return Err(Error::AmbiguousRule);
    };
    Ok(id)
}
