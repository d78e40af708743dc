use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

// The membership is built by the request type's own method, then inserted when none was
// found: two invitations of one email to one account at once both find none, both insert,
// and the second fails on the unique index instead of answering the first one's row.
impl CreateMembership {
    pub fn build(self, account: &account::Model) -> Result<membership::ActiveModel, Error> {
        self.validate()?;
        Ok(membership::Model {
            id: Uuid::new_v4(),
            account_id: account.id,
            user_email: self.user_email,
        }
        .into_active_model())
    }
}

pub async fn create(
    account: account::Model,
    State(db): State<Db>,
    Json(input): Json<CreateMembership>,
) -> Result<impl IntoResponse, Error> {
    let membership = input.build(&account)?;
    if let Some(found) = membership::Entity::find()
        .filter(membership::Column::AccountId.eq(account.id))
        .filter(membership::Column::UserEmail.eq(input_email(&membership)))
        .one(&db) // READ
        .await?
    {
        return Ok((StatusCode::OK, Json(found)));
    }
    let membership = membership.insert(&db).await?; // WRITE
    Ok((StatusCode::CREATED, Json(membership)))
}
