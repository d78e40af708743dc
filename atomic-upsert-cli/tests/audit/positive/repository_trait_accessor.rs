// A repository reached through an accessor that returns a boxed trait object
// (`repo.user_email()`), whose implementor reads with a sea-query `COUNT` and inserts with
// sqlx. A resolver elsewhere shares the accessor's name and reads something else.
use sea_query::{Expr, PostgresQueryBuilder, Query};
use sea_query_binder::SqlxBinder;

#[derive(sea_query::Iden)]
enum UserEmails {
    Table,
    Email,
}

#[async_trait::async_trait]
pub trait UserEmailRepository: Send {
    async fn count(&mut self, email: &str) -> Result<usize, Error>;
    async fn add(&mut self, user: Uuid, email: String) -> Result<(), Error>;
}

pub trait RepositoryAccess {
    fn user_email<'c>(&'c mut self) -> Box<dyn UserEmailRepository + 'c>;
}

pub struct PgUserEmailRepository<'c> {
    conn: &'c mut sqlx::PgConnection,
}

#[async_trait::async_trait]
impl UserEmailRepository for PgUserEmailRepository<'_> {
    async fn count(&mut self, email: &str) -> Result<usize, Error> {
        let (sql, arguments) = Query::select()
            .expr(Expr::col((UserEmails::Table, UserEmails::Email)).count())
            .from(UserEmails::Table)
            .and_where(Expr::col((UserEmails::Table, UserEmails::Email)).eq(email))
            .build_sqlx(PostgresQueryBuilder);
        let count: i64 = sqlx::query_scalar_with(&sql, arguments)
            .fetch_one(&mut *self.conn)
            .await?;
        Ok(count as usize)
    }

    async fn add(&mut self, user: Uuid, email: String) -> Result<(), Error> {
        sqlx::query("INSERT INTO user_emails (user_id, email) VALUES ($1, $2)")
            .bind(user)
            .bind(email)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }
}

pub struct PgRepository {
    conn: sqlx::PgConnection,
}

impl RepositoryAccess for PgRepository {
    fn user_email<'c>(&'c mut self) -> Box<dyn UserEmailRepository + 'c> {
        Box::new(PgUserEmailRepository {
            conn: &mut self.conn,
        })
    }
}

pub struct Query;

impl Query {
    // A resolver of the same name: not the accessor a call without arguments makes.
    async fn user_email(&self, pool: &sqlx::PgPool, id: Uuid) -> Result<Option<Email>, Error> {
        sqlx::query_as("SELECT * FROM user_emails WHERE user_email_id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    }
}

pub async fn add_email(mut repo: BoxRepository, user: Uuid, email: String) -> Result<(), Error> {
    let count = repo.user_email().count(&email).await?; // READ
    if count > 0 {
        return Err(Error::InUse);
    }
    repo.user_email().add(user, email).await?; // WRITE
    Ok(())
}
