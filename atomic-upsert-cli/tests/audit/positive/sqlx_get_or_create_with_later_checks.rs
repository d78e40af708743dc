// Get the submitter or make one; later code rejects a banned one, and the arm that makes one
// checks a rate limit first: neither is what the code does when the row exists (it uses it).
async fn submit(conn: &mut sqlx::PgConnection, ip: &str, limits: &Limits) -> Result<(), Error> {
    let submitter = match Submitter::by_ip(ip, &mut *conn).await? { // READ
        Some(submitter) => submitter,
        None => {
            limits.new_submitter()?;
            Submitter::create(ip, &mut *conn).await? // WRITE
        }
    };
    if submitter.banned {
        return Err(Error::Banned);
    }
    Ok(())
}

struct Submitter {
    id: i64,
    banned: bool,
}

impl Submitter {
    async fn by_ip(ip: &str, conn: &mut sqlx::PgConnection) -> Result<Option<Submitter>, Error> {
        Ok(sqlx::query_as("SELECT id, banned FROM submitters WHERE ip = $1")
            .bind(ip)
            .fetch_optional(conn)
            .await?)
    }

    async fn create(ip: &str, conn: &mut sqlx::PgConnection) -> Result<Submitter, Error> {
        Ok(sqlx::query_as("INSERT INTO submitters (ip) VALUES ($1) RETURNING id, banned")
            .bind(ip)
            .fetch_one(conn)
            .await?)
    }
}
