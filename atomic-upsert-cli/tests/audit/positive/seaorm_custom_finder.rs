// The entity's own finder (`find_safety()`, leaving soft-deleted rows out) counts the tags
// of that name; none, and the tag is inserted from a model written out in the call.
pub async fn do_create_by_name(db: &DatabaseConnection, tag_name: String) -> Result<bool> {
    let exists = tag_model::Entity::find_safety()
        .filter(tag_model::Column::Tag.eq(&tag_name))
        .count(db) // READ
        .await?;
    if exists > 0 {
        return Ok(false);
    }
    tag_model::Entity::insert(tag_model::ActiveModel { // WRITE
        id: NotSet,
        tag: Set(tag_name),
        icon_id: Set(0),
        hidden_flag: Set(Some(0)),
        sort_index: Set(Some(0)),
        del_flag: Set(false),
        version: Set(0),
        create_time: Set(Utc::now().naive_utc()),
    })
    .exec(db)
    .await?;
    Ok(true)
}
