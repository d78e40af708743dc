// `self.object` is another crate's type: its `dereference` is not the crate's function of
// that name, whatever that one reads.
struct Follow {
    object: activitypub::ObjectId<Person>,
}

struct Comment;

impl Comment {
    async fn dereference(&self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT id FROM activities WHERE ap_id = $1")
            .bind("x")
            .fetch_optional(pool)
            .await?;
        Ok(())
    }
}

impl Follow {
    async fn receive(self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        if self.object.dereference(pool).await.is_ok() {
            sqlx::query("INSERT INTO activities (ap_id) VALUES ($1)")
                .bind("y")
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}
