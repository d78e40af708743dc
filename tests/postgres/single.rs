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

/// `insert_or_get` reads the stored row back with the key compared as the unique index
/// compares it: a `citext` key spelled another way, a key under a nondeterministic
/// collation, a NULL key under `NULLS NOT DISTINCT`; many callers at once, one inserts.
mod insert_or_get_keys {
    use atomic_upsert::sqlx;
    use atomic_upsert::{AtomicUpsert, Obtained};
    use upsert_testkit::TestDb;

    #[derive(AtomicUpsert, Debug, Clone)]
    #[upsert(table = "ci_users")]
    struct CiUser {
        #[conflict_key]
        #[upsert(sql_type = "au_ext.citext")]
        email: String,
        name: String,
    }

    #[derive(AtomicUpsert, Debug, Clone)]
    #[upsert(table = "coll_users")]
    struct CollUser {
        #[conflict_key]
        #[upsert(collate = "ci_coll")]
        handle: String,
        name: String,
    }

    #[derive(AtomicUpsert, Debug, Clone)]
    #[upsert(table = "slots", nulls_not_distinct)]
    struct SlotOwner {
        #[conflict_key]
        slot: Option<i32>,
        owner: String,
    }

    #[tokio::test]
    async fn concurrent_callers_meet_the_stored_row_as_the_index_matches_it() {
        let db = TestDb::new(8).await;
        crate::support::citext(&db).await;
        sqlx::raw_sql(
            "CREATE COLLATION ci_coll (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
             CREATE TABLE ci_users (email au_ext.citext PRIMARY KEY, name text NOT NULL);
             CREATE TABLE coll_users (handle text COLLATE ci_coll PRIMARY KEY, name text NOT NULL);
             CREATE TABLE slots (slot int4 UNIQUE NULLS NOT DISTINCT, owner text NOT NULL)",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        for round in 0..5 {
            let spellings = ["Ann@X.org", "ann@x.org", "ANN@X.ORG", "aNn@x.OrG"];
            let calls = (0..16).map(|i| {
                let pool = db.pool.clone();
                let user = CiUser {
                    email: format!("{round}{}", spellings[i % 4]),
                    name: format!("caller {i}"),
                };
                tokio::spawn(async move { user.insert_or_get(&pool).await })
            });
            let mut inserted = 0;
            let mut names = std::collections::HashSet::new();
            for call in calls {
                let (stored, obtained) = call.await.unwrap().expect("no Contended, no error");
                inserted += usize::from(obtained == Obtained::Inserted);
                names.insert(stored.name);
            }
            assert_eq!(inserted, 1, "one caller inserts");
            assert_eq!(names.len(), 1, "every caller gets the one stored row");

            let calls = (0..16).map(|i| {
                let pool = db.pool.clone();
                let user = CollUser {
                    handle: format!("{round}{}", ["Bob", "BOB", "bob", "bOb"][i % 4]),
                    name: format!("caller {i}"),
                };
                tokio::spawn(async move { user.insert_or_get(&pool).await })
            });
            let mut inserted = 0;
            for call in calls {
                let (_, obtained) = call.await.unwrap().expect("no Contended, no error");
                inserted += usize::from(obtained == Obtained::Inserted);
            }
            assert_eq!(inserted, 1);

            sqlx::query("DELETE FROM slots")
                .execute(&db.pool)
                .await
                .unwrap();
            let calls = (0..16).map(|i| {
                let pool = db.pool.clone();
                let owner = SlotOwner {
                    slot: None,
                    owner: format!("caller {i}"),
                };
                tokio::spawn(async move { owner.insert_or_get(&pool).await })
            });
            let mut inserted = 0;
            for call in calls {
                let (_, obtained) = call.await.unwrap().expect("no Contended, no error");
                inserted += usize::from(obtained == Obtained::Inserted);
            }
            assert_eq!(inserted, 1, "a NULL key conflicts under NULLS NOT DISTINCT");
        }
        // Batches meet the stored row the same way: counts and per-row outcomes.
        sqlx::query("INSERT INTO ci_users VALUES ('Eve@X.org', 'e')")
            .execute(&db.pool)
            .await
            .unwrap();
        for path in [
            atomic_upsert::BulkPath::Unnest,
            atomic_upsert::BulkPath::Copy,
        ] {
            let rows = [
                CiUser {
                    email: "EVE@x.org".into(),
                    name: "b".into(),
                },
                CiUser {
                    email: "new@x.org".into(),
                    name: "n".into(),
                },
            ];
            let mut tx = db.pool.begin().await.unwrap();
            let outcome = CiUser::upsert_many_via(&mut *tx, &rows, path)
                .await
                .unwrap();
            assert_eq!((outcome.inserted, outcome.updated), (1, 1), "{path:?}");
            let outcomes = CiUser::upsert_many_outcomes_via(&mut *tx, &rows, path)
                .await
                .unwrap();
            assert_eq!(
                outcomes,
                [atomic_upsert::UpsertOutcome::Updated; 2],
                "{path:?}"
            );
            tx.rollback().await.unwrap();
        }
        db.finish().await;
    }
}
