// The crate's own insert builder, made into a variable with the table's name and run
// later: an insert into that table, after a read of the same key.
async fn create_user(pool: &sqlx::PgPool, email: &str) -> Result<(), DatabaseError> {
    let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1") // READ
        .bind(email)
        .fetch_optional(pool)
        .await?;
    if existing.is_some() {
        return Err(DatabaseError::AlreadyExists);
    }
    let mut query_builder = InsertQueryBuilder::new("users");
    query_builder.set("email", email).set("admin", false);
    query_builder.execute(pool).await?; // WRITE
    Ok(())
}
