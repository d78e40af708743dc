// One statement checks and inserts through `.. NOT IN (SELECT .. FROM t ..)` on its own
// table: under READ COMMITTED two calls both see the genre missing and both insert it.
use diesel::prelude::*;

pub fn update_genres(event_id: Uuid, conn: &PgConnection) -> Result<usize, DatabaseError> {
    let query = r#"
        INSERT INTO event_genres (event_id, genre_id)
        SELECT DISTINCT $1 as event_id, ag.genre_id
        FROM event_artists ea
        JOIN artist_genres ag ON ag.artist_id = ea.artist_id
        WHERE ea.event_id = $1
        AND ag.genre_id not in (select genre_id from event_genres where event_id = $1);
    "#;
    diesel::sql_query(query) // READ // WRITE
        .bind::<dUuid, _>(event_id)
        .execute(conn)
        .map_err(DatabaseError::from)
}
