// Test setup code races nothing: `#[cfg(test)]` modules and `#[test]`s are left out
// (`--include-tests` audits them).
#[cfg(test)]
mod tests {
    async fn seed(pool: &sqlx::PgPool) {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = 'a'")
            .fetch_optional(pool)
            .await
            .unwrap();
        if found.is_none() {
            sqlx::query("INSERT INTO users (name) VALUES ('a')").execute(pool).await.unwrap();
        }
    }
}
