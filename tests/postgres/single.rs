//! `upsert` and `insert_or_ignore` on every executor kind, with exact outcomes.

use atomic_upsert::sqlx::{self, Row as _};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use upsert_testkit::TestDb;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: sqlx::types::Json<serde_json::Value>,
}

async fn data_of(db: &TestDb, key: &str) -> serde_json::Value {
    sqlx::query("SELECT data FROM strava_stats WHERE stats_type = $1")
        .bind(key)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get::<sqlx::types::Json<serde_json::Value>, _>(0)
        .0
}

#[tokio::test]
async fn upsert_inserts_then_updates_on_pool_connection_and_transaction() {
    let db = TestDb::new(4).await;
    sqlx::query("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut row = StravaStats {
        stats_type: "ytd".into(),
        data: sqlx::types::Json(serde_json::json!({"km": 1})),
    };

    // &PgPool
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Inserted);
    row.data.0 = serde_json::json!({"km": 2});
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(data_of(&db, "ytd").await, serde_json::json!({"km": 2}));

    // &mut *conn
    let mut conn = db.pool.acquire().await.unwrap();
    row.data.0 = serde_json::json!({"km": 3});
    assert_eq!(
        row.upsert(&mut *conn).await.unwrap(),
        UpsertOutcome::Updated
    );
    drop(conn);
    assert_eq!(data_of(&db, "ytd").await, serde_json::json!({"km": 3}));

    // &mut *tx, rolled back: nothing stays.
    let mut tx = db.pool.begin().await.unwrap();
    let other = StravaStats {
        stats_type: "all".into(),
        data: row.data.clone(),
    };
    assert_eq!(
        other.upsert(&mut *tx).await.unwrap(),
        UpsertOutcome::Inserted
    );
    tx.rollback().await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM strava_stats")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the rolled-back insert must not be visible");

    // &mut *tx, committed.
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(
        other.upsert(&mut *tx).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        other.upsert(&mut *tx).await.unwrap(),
        UpsertOutcome::Updated
    );
    tx.commit().await.unwrap();
    assert_eq!(data_of(&db, "all").await, serde_json::json!({"km": 3}));
    db.finish().await;
}

#[tokio::test]
async fn insert_or_ignore_keeps_the_stored_row() {
    let db = TestDb::new(2).await;
    sqlx::query("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let first = StravaStats {
        stats_type: "ytd".into(),
        data: sqlx::types::Json(serde_json::json!("first")),
    };
    let second = StravaStats {
        stats_type: "ytd".into(),
        data: sqlx::types::Json(serde_json::json!("second")),
    };
    assert_eq!(
        first.insert_or_ignore(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        second.insert_or_ignore(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(data_of(&db, "ytd").await, serde_json::json!("first"));
    db.finish().await;
}

/// A set-membership table: every field is a key, so an existing row is `Skipped`.
#[derive(AtomicUpsert)]
struct PostTag {
    #[conflict_key]
    post_id: i64,
    #[conflict_key]
    tag: String,
}

#[tokio::test]
async fn all_key_struct_inserts_once_then_skips() {
    let db = TestDb::new(2).await;
    sqlx::query("CREATE TABLE post_tag (post_id bigint, tag text, PRIMARY KEY (post_id, tag))")
        .execute(&db.pool)
        .await
        .unwrap();
    let link = PostTag {
        post_id: 7,
        tag: "rust".into(),
    };
    assert_eq!(
        link.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(link.upsert(&db.pool).await.unwrap(), UpsertOutcome::Skipped);
    assert_eq!(
        link.insert_or_ignore(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM post_tag")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    db.finish().await;
}

/// Borrowed fields: upsert without cloning.
#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StatsRef<'a> {
    #[conflict_key]
    stats_type: &'a str,
    data: &'a sqlx::types::Json<serde_json::Value>,
}

#[tokio::test]
async fn borrowed_fields_upsert() {
    let db = TestDb::new(2).await;
    sqlx::query("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let key = String::from("recent");
    let data = sqlx::types::Json(serde_json::json!([1, 2]));
    let row = StatsRef {
        stats_type: &key,
        data: &data,
    };
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Inserted);
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(data_of(&db, "recent").await, serde_json::json!([1, 2]));
    db.finish().await;
}
