use diesel::prelude::*;

// The chat to copy is read into a variable, then required (`None => return Err`): the copy
// is inserted only when the source row was found, under a fresh id. (The permission test
// after it looks at the row found, not at whether there is one.)
fn duplicate_chat(conn: &mut PgConnection, chat_id: Uuid, user: Uuid) -> anyhow::Result<Uuid> {
    let source = chats::table.find(chat_id).first::<Chat>(conn).optional()?;
    let source = match source {
        Some(chat) => chat,
        None => return Err(anyhow::anyhow!("Chat not found")),
    };
    let shared = source.public;
    let is_creator = source.created_by == user;
    if !shared && !is_creator {
        return Err(anyhow::anyhow!("You don't have permission to view this chat"));
    }
    let copy = Chat { id: Uuid::new_v4(), title: format!("{} (Copy)", source.title), ..source };
    diesel::insert_into(chats::table).values(&copy).execute(conn)?;
    Ok(copy.id)
}
