//! `upsert_returning_as`: the struct is the write form, and the stored row comes back in the
//! application's read model (`#[derive(sqlx::FromRow)]`), with the columns the database
//! fills (a serial id, defaults) and no placeholder fields in the form. On a pool, a held
//! connection and a caller's transaction; `None` when a guard skips; a read model that
//! does not fit the row is `Error::Unreadable`, naming the column, after the write.

use atomic_upsert::{AtomicUpsert, Error};
use upsert_testkit::TestDb;

/// The write form: what the application sends.
#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "posts", update_where = "NOT posts.locked")]
struct PostForm {
    #[conflict_key]
    ap_id: String,
    title: String,
    #[upsert(add)]
    edits: i32,
}

/// The read model: every column of the table, the database's own among them.
#[derive(sqlx::FromRow, Debug, PartialEq)]
struct Post {
    id: i64,
    ap_id: String,
    title: String,
    edits: i32,
    locked: bool,
    score: i64,
}

/// A read model that expects a column the table lacks.
#[derive(sqlx::FromRow, Debug)]
#[allow(dead_code, reason = "read to fail")]
struct Wrong {
    id: i64,
    author: String,
}

const POSTS: &str = "CREATE TABLE posts (id bigserial PRIMARY KEY, ap_id text NOT NULL UNIQUE, \
    title text NOT NULL, edits int4 NOT NULL, locked bool NOT NULL DEFAULT false, \
    score int8 NOT NULL DEFAULT 0)";

fn form(ap_id: &str, title: &str) -> PostForm {
    PostForm {
        ap_id: ap_id.into(),
        title: title.into(),
        edits: 1,
    }
}

#[tokio::test]
async fn the_stored_row_comes_back_in_the_read_model_on_every_executor() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(POSTS).execute(&db.pool).await.unwrap();
    PostForm::verify(&db.pool).await.unwrap();

    // A pool.
    let inserted: Post = form("a", "first")
        .upsert_returning_as(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        inserted,
        Post {
            id: inserted.id,
            ap_id: "a".into(),
            title: "first".into(),
            edits: 1,
            locked: false,
            score: 0
        }
    );
    let updated: Post = form("a", "second")
        .upsert_returning_as(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.id, updated.title.as_str(), updated.edits),
        (inserted.id, "second", 2)
    );

    // A held connection.
    let mut conn = db.pool.acquire().await.unwrap();
    let other: Post = form("b", "x")
        .upsert_returning_as(&mut *conn)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(other.id, inserted.id);
    drop(conn);

    // A caller's transaction: rolled back with it.
    let mut tx = db.pool.begin().await.unwrap();
    let in_tx: Post = form("c", "y")
        .upsert_returning_as(&mut *tx)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_tx.title, "y");
    tx.rollback().await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM posts WHERE ap_id = 'c'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // A guard that skips: nothing written, nothing returned.
    sqlx::query("UPDATE posts SET locked = true WHERE ap_id = 'a'")
        .execute(&db.pool)
        .await
        .unwrap();
    let skipped: Option<Post> = form("a", "third")
        .upsert_returning_as(&db.pool)
        .await
        .unwrap();
    assert!(skipped.is_none());

    // A read model that does not fit: the write stands, the error names the column.
    let error = form("d", "z")
        .upsert_returning_as::<Wrong, _>(&db.pool)
        .await
        .unwrap_err();
    let Error::Unreadable { column, .. } = &error else {
        panic!("expected Unreadable: {error}");
    };
    assert_eq!(column.as_deref(), Some("author"), "{error}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM posts WHERE ap_id = 'd'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    db.finish().await;
}

/// `insert_or_get_as`: get-or-create into the read model, inserted then existing, with the
/// database's own columns.
#[tokio::test]
async fn get_or_create_into_the_read_model() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(POSTS).execute(&db.pool).await.unwrap();
    let (created, how): (Post, _) = form("a", "first").insert_or_get_as(&db.pool).await.unwrap();
    assert_eq!(how, atomic_upsert::Obtained::Inserted);
    assert_eq!((created.title.as_str(), created.score), ("first", 0));
    sqlx::query("UPDATE posts SET score = 7")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    let (existing, how): (Post, _) = form("a", "other").insert_or_get_as(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(how, atomic_upsert::Obtained::Existing);
    assert_eq!(
        existing,
        Post {
            score: 7,
            ..created
        },
        "the stored row, not the form"
    );
    db.finish().await;
}
