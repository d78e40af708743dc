use sea_orm::*;

// A list read shown to the user, then an insert on a branch that does not look into it.
async fn comment(db: &DatabaseConnection, post: i64, body: String, notify: bool) -> Result<(), DbErr> {
    let comments = comment::Entity::find()
        .filter(comment::Column::PostId.eq(post))
        .all(db)
        .await?;
    render(&comments);
    if notify {
        comment::ActiveModel {
            post_id: Set(post),
            body: Set(body),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
