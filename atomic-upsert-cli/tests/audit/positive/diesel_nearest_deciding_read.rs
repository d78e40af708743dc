use diesel::prelude::*;

// The read that decides is the first; the later read of the same table (the reposted post
// itself) decides nothing.
fn repost(conn: &mut PgConnection, account: i32, post: i32) -> QueryResult<Post> {
    let existing = posts::table
        .filter(posts::reposted_post_id.eq(post))
        .filter(posts::account_id.eq(account))
        .first::<Post>(conn) // READ
        .optional()?;
    if let Some(repost) = existing {
        return Ok(repost);
    }
    let original: Post = posts::table.find(post).get_result(conn)?;
    diesel::insert_into(posts::table) // WRITE
        .values((posts::account_id.eq(account), posts::reposted_post_id.eq(original.id)))
        .get_result(conn)
}
