// Pages through rows that exist and rewrites them: the read's "nothing" stops the loop,
// the insert runs when it found rows.
async fn refresh(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let mut page = 0_i64;
    loop {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT key, hits FROM traffic ORDER BY key LIMIT 50 OFFSET $1")
            .bind(page * 50)
            .fetch_all(pool)
            .await?;
        if rows.is_empty() {
            break;
        }
        for (key, hits) in rows {
            sqlx::query("DELETE FROM traffic WHERE key = $1").bind(&key).execute(pool).await?;
            sqlx::query("INSERT INTO traffic (key, hits) VALUES ($1, $2)")
                .bind(&key)
                .bind(hits)
                .execute(pool)
                .await?;
        }
        page += 1;
    }
    Ok(())
}
