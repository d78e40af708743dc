// Two repositories each have a `create`; both insert into `invites`, so a call to either
// is that insert. A test helper of the same name (inserting elsewhere) does not count.
mod pg {
    pub async fn create(pool: &sqlx::PgPool, code: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO invites (code) VALUES ($1)").bind(code).execute(pool).await?;
        Ok(())
    }
}

mod cached {
    pub async fn create(pool: &sqlx::PgPool, code: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO invites (code) VALUES ($1)").bind(code).execute(pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    async fn create(pool: &sqlx::PgPool) {
        sqlx::query("INSERT INTO fixtures (name) VALUES ('x')").execute(pool).await.unwrap();
    }
}

async fn invite(pool: &sqlx::PgPool, code: &str) -> Result<(), sqlx::Error> {
    let found: Option<(String,)> = sqlx::query_as("SELECT code FROM invites WHERE code = $1") // READ
        .bind(code)
        .fetch_optional(pool)
        .await?;
    if found.is_none() {
        pg::create(pool, code).await?; // WRITE
    }
    Ok(())
}
