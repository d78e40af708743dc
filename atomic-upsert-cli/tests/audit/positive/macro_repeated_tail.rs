use diesel::prelude::*;

// The crate's inserter macro takes a closure whose body is any run of tokens.
macro_rules! inserter {
    ($table:ident, $from:ty, |$val:ident| $( $after:tt )+) => {
        pub fn insert(conn: &mut PgConnection, new: $from) -> QueryResult<Self> {
            let $val = diesel::insert_into($table::table).values(new).get_result(conn)?;
            $( $after )+
        }
    };
}

impl Follow {
    inserter!(follows, NewFollow, |inserted| if inserted.ap_url.is_empty() {
        Ok(inserted)
    } else {
        Ok(inserted)
    });

    fn find(conn: &mut PgConnection, from: i32, to: i32) -> QueryResult<Follow> {
        follows::table
            .filter(follows::follower_id.eq(from))
            .filter(follows::following_id.eq(to))
            .get_result(conn)
    }
}

fn follow(conn: &mut PgConnection, from: i32, to: i32) -> QueryResult<()> {
    if Follow::find(conn, from, to).is_err() { // READ
        Follow::insert(conn, NewFollow { follower_id: from, following_id: to })?; // WRITE
    }
    Ok(())
}
