// A type whose constructor locks tables (`Reader::new` runs `LOCK TABLE`) makes no lock of
// another type's `new`: `Token::new(..)` before the check takes none.
pub struct Reader<'c> {
    conn: &'c mut sqlx::PgConnection,
}

impl<'c> Reader<'c> {
    pub async fn new(conn: &'c mut sqlx::PgConnection) -> Result<Self, Error> {
        sqlx::query("LOCK TABLE users IN SHARE MODE NOWAIT")
            .execute(&mut *conn)
            .await?;
        Ok(Reader { conn })
    }
}

pub struct Token(String);

impl Token {
    pub fn new(text: &str) -> Self {
        Token(text.to_owned())
    }
}

async fn add_token(pool: &sqlx::PgPool, text: &str) -> Result<(), Error> {
    let token = Token::new(text);
    let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM tokens WHERE token = $1") // READ
        .bind(&token.0)
        .fetch_optional(pool)
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict);
    }
    sqlx::query("INSERT INTO tokens (token) VALUES ($1)") // WRITE
        .bind(&token.0)
        .execute(pool)
        .await?;
    Ok(())
}
