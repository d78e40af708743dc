use diesel::prelude::*;

// The chat's last message is read to find the dashboard it showed; the `break` leaves the
// loop over its items, not the function, and the new message is inserted whatever the
// read found: no check decides it.
fn post_message(conn: &mut PgConnection, chat_id: Uuid, text: &str) -> QueryResult<()> {
    let mut context = None;
    let last = messages::table
        .filter(messages::chat_id.eq(chat_id))
        .order(messages::created_at.desc())
        .first::<Message>(conn)
        .optional()?;
    if let Some(last) = last {
        for item in last.items() {
            if item.kind == "dashboard" {
                context = Some(item.id);
                break;
            }
        }
    }
    diesel::insert_into(messages::table)
        .values(NewMessage::new(chat_id, text, context))
        .execute(conn)?;
    Ok(())
}
