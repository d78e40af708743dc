// The service writes through one SQLite connection kept behind a mutex: each writer takes
// the guard, begins its transaction on it, and hands the transaction to the helpers that
// check and insert. Two writers never interleave.
pub struct SqlitePool {
    pub writer: Arc<Mutex<SqliteConnection>>,
    reader: Pool<Sqlite>,
}

pub type Transaction<'tx> = sqlx::Transaction<'tx, Sqlite>;

pub async fn write_tx(
    lock: &mut OwnedMutexGuard<SqliteConnection>,
) -> Result<Transaction<'_>, sqlx::Error> {
    lock.begin().await
}

impl NewGenre {
    pub async fn insert(&self, tx: &mut Transaction<'_>) -> Result<i64, sqlx::Error> {
        if let Some(id) = sqlx::query_scalar("SELECT id FROM genre WHERE name = ?")
            .bind(&self.name)
            .fetch_optional(&mut **tx)
            .await?
        {
            return Ok(id);
        }
        sqlx::query_scalar("INSERT INTO genre (name) VALUES (?) RETURNING id")
            .bind(&self.name)
            .fetch_one(&mut **tx)
            .await
    }
}

pub async fn register(pool: SqlitePool, user: Login) -> Result<(), Error> {
    let mut lock = pool.writer.clone().lock_owned().await;
    let mut tx = write_tx(&mut lock).await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(&user.username)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(Error::Taken);
    }
    sqlx::query("INSERT INTO users (username) VALUES (?)")
        .bind(&user.username)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
