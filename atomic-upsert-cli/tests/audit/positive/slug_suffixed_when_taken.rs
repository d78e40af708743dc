// A slug probed for, suffixed when another office has it, then inserted by an upsert on
// `id` alone: two offices created at once with one title both see the slug free and both
// insert it, and the second fails on the slug's unique index.
async fn upsert_office(pool: &sqlx::PgPool, input: &OfficeInput) -> Result<Office, sqlx::Error> {
    let id = input.id.unwrap_or_else(uuid::Uuid::new_v4);
    let mut slug = slugify(&input.title);
    let taken = sqlx::query!(
        "SELECT slug FROM office WHERE slug = $1 AND id != $2", // READ
        slug,
        input.id
    )
    .fetch_optional(pool)
    .await?;
    let suffix: u32 = rand::random();
    if let Some(row) = taken {
        slug = format!("{}-{}", row.slug, suffix);
    }
    sqlx::query_as!(
        Office,
        "INSERT INTO office (id, slug, title) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET slug = $2, title = $3 RETURNING id, slug, title", // WRITE
        id,
        slug,
        input.title
    )
    .fetch_one(pool)
    .await
}
