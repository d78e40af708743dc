// A username from the identity provider, replaced while it is taken, then inserted: two
// sign-ups with the same name both see it free and both insert.
async fn create_user(login: String, tx: &mut PgConnection) -> anyhow::Result<User> {
    let mut username = login;
    while is_username_taken(&username, &mut *tx).await? { // READ
        username = random_name();
    }
    let sql = "insert into users (username, password) values ($1, $2) returning *";
    let user = sqlx::query_as::<_, User>(sql) // WRITE
        .bind(&username)
        .bind("sso-login")
        .fetch_one(&mut *tx)
        .await?;
    Ok(user)
}

async fn is_username_taken(username: &str, tx: &mut PgConnection) -> anyhow::Result<bool> {
    let (taken,): (bool,) =
        sqlx::query_as("select exists(select 1 from users where lower(username) = lower($1))")
            .bind(username)
            .fetch_one(tx)
            .await?;
    Ok(taken)
}
