// A read and an insert on sibling arms: the insert does not depend on the read.
enum Command {
    Show(i64),
    Add(String),
}

async fn run(pool: &sqlx::PgPool, command: Command) -> Result<(), sqlx::Error> {
    match command {
        Command::Show(id) => {
            let user = sqlx::query("SELECT email FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            println!("{}", user.is_some());
        }
        Command::Add(email) => {
            sqlx::query("INSERT INTO users (email) VALUES ($1)")
                .bind(email)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
