// The user's row is locked (`FOR UPDATE`) for the rest of the transaction before the
// membership is checked and inserted: two attaches of one user run one after the other.
pub async fn attach_to_organization(db: &DatabaseConnection, user_id: Id, org_id: Id) -> Result<(), Error> {
    let txn = db.begin().await?;
    user::find_by_id_for_update(&txn, user_id).await?;
    if user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .filter(user_role::Column::OrganizationId.eq(org_id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::AlreadyMember);
    }
    user_role::ActiveModel {
        user_id: Set(user_id),
        organization_id: Set(org_id),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}
