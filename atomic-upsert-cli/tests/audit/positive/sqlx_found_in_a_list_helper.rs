// The invitations a helper lists, looked into where they are read (`.iter().find(..)`): the
// binding is the invitation found, and two invites of one email both find none.
pub async fn invitations_of(org: i64, pool: &sqlx::PgPool) -> Result<Vec<Invitation>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM invitations WHERE organization_id = $1")
        .bind(org)
        .fetch_all(pool)
        .await
}

pub async fn create_invitation(org: i64, email: &str, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO invitations (organization_id, email) VALUES ($1, $2)")
        .bind(org)
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn post_invitation(org: i64, email: String, pool: &sqlx::PgPool) -> Result<(), Error> {
    let invited = invitations_of(org, pool) // READ
        .await?
        .iter()
        .find(|inv| inv.email == email)
        .cloned();
    if let Some(inv) = invited {
        return Err(Error::AlreadyInvited(inv.email));
    }
    create_invitation(org, &email, pool).await?; // WRITE
    Ok(())
}
