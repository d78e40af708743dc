use diesel::prelude::*;

// The crate's own macro makes each model's `insert`; the race is in a route that checks
// with a method of another model first.
macro_rules! insert {
    ($table:ident, $from:ty) => {
        pub fn insert(conn: &mut PgConnection, new: $from) -> QueryResult<Self> {
            diesel::insert_into($table::table).values(new).get_result(conn)
        }
    };
}

impl Like {
    insert!(likes, NewLike);
}

impl Reshare {
    insert!(reshares, NewReshare);
}

impl User {
    pub fn has_liked(&self, conn: &mut PgConnection, post: i32) -> QueryResult<bool> {
        likes::table
            .filter(likes::post_id.eq(post))
            .filter(likes::user_id.eq(self.id))
            .count()
            .get_result::<i64>(conn)
            .map(|n| n > 0)
    }
}

fn like(conn: &mut PgConnection, user: &User, post: i32) -> QueryResult<()> {
    if !user.has_liked(conn, post)? { // READ
        Like::insert(conn, NewLike::new(post, user.id))?; // WRITE
    }
    Ok(())
}
