// The report's files are read into a struct, and its own method says whether any is
// missing (`self.pdf.is_none() || self.csv.is_none()`): true when rows are missing, so
// its branch inserts them, and two first downloads at once both generate and insert.
impl ReportFiles {
    pub fn needs_generation(&self) -> bool {
        self.pdf.is_none() || self.csv.is_none()
    }
}

async fn report(pool: &sqlx::PgPool, session: i64) -> Result<ReportFiles, sqlx::Error> {
    let mut files = ReportFiles {
        pdf: sqlx::query_scalar("SELECT data FROM files WHERE session_id = $1 AND kind = 'pdf'") // READ
            .bind(session)
            .fetch_optional(pool)
            .await?,
        csv: None,
    };
    if files.needs_generation() {
        files = generate(session);
        sqlx::query("INSERT INTO files (session_id, kind, data) VALUES ($1, 'pdf', $2)") // WRITE
            .bind(session)
            .bind(&files.pdf)
            .execute(pool)
            .await?;
    }
    Ok(files)
}
