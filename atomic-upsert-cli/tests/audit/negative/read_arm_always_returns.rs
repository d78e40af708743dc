// With a code given, the invitation of that code is updated (and the function returns), or
// a warning logged, and the arm returns either way; the insert after it runs only without a
// code, with a fresh one no read looked for.
pub async fn do_update(db: &DatabaseConnection, code: Option<String>, name: String) -> Result<()> {
    if let Some(c) = code {
        if let Some(inv) = inv_model::Entity::find()
            .filter(inv_model::Column::Code.eq(&c))
            .one(db)
            .await?
        {
            let mut am: inv_model::ActiveModel = inv.into();
            am.username = Set(name);
            am.update(db).await?;
            return Ok(());
        } else {
            log::warn!("no invitation {c}");
        }
        return Ok(());
    }
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    let am = inv_model::ActiveModel {
        code: Set(fresh),
        username: Set(name),
        ..Default::default()
    };
    inv_model::Entity::insert(am).exec(db).await?;
    Ok(())
}
