//! Per-column strategies, guards, conflict targets and `upsert_returning`, one row at a
//! time, each checked against what PostgreSQL stored.

use atomic_upsert::sqlx;
use atomic_upsert::sqlx::types::Json;
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use serde_json::json;
use upsert_testkit::TestDb;

async fn exec(db: &TestDb, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The table's rows as JSON, ordered by `order_by`.
async fn rows(db: &TestDb, table: &str, order_by: &str) -> serde_json::Value {
    let sql =
        format!("SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY {order_by}), '[]') FROM {table} t");
    sqlx::query_scalar::<_, Json<serde_json::Value>>(sqlx::AssertSqlSafe(sql))
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .0
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "athlete")]
struct Athlete {
    #[conflict_key]
    id: i64,
    #[upsert(add)]
    rides: i32,
    #[upsert(add)]
    km: f64,
    #[upsert(greatest)]
    longest_km: f64,
    #[upsert(least)]
    first_ride: i32,
    #[upsert(coalesce)]
    city: Option<String>,
    #[upsert(merge)]
    gear: Json<serde_json::Value>,
    #[upsert(insert_only)]
    signup_source: String,
    name: String,
}

#[tokio::test]
async fn every_strategy_combines_stored_and_incoming() {
    let db = TestDb::new(2).await;
    exec(
        &db,
        "CREATE TABLE athlete (id int8 PRIMARY KEY, rides int4 NOT NULL, km float8 NOT NULL, \
         longest_km float8 NOT NULL, first_ride int4 NOT NULL, city text, gear jsonb, \
         signup_source text NOT NULL, name text NOT NULL)",
    )
    .await;
    let first = Athlete {
        id: 7,
        rides: 1,
        km: 20.5,
        longest_km: 20.5,
        first_ride: 20_240_301,
        city: Some("Lyon".into()),
        gear: Json(json!({"bike": "road", "shoes": "old"})),
        signup_source: "web".into(),
        name: "Ana".into(),
    };
    assert_eq!(
        first.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    let second = Athlete {
        id: 7,
        rides: 2,
        km: 10.0,
        longest_km: 8.0,
        first_ride: 20_240_101,
        city: None,
        gear: Json(json!({"shoes": "new", "helmet": "red"})),
        signup_source: "app".into(),
        name: "Ana B".into(),
    };
    let stored = second.upsert_returning(&db.pool).await.unwrap().unwrap();
    let expected = Athlete {
        id: 7,
        rides: 3,                                                             // add
        km: 30.5,                                                             // add (float)
        longest_km: 20.5,                                                     // greatest
        first_ride: 20_240_101,                                               // least
        city: Some("Lyon".into()), // coalesce: None never overwrites
        gear: Json(json!({"bike": "road", "shoes": "new", "helmet": "red"})), // merge
        signup_source: "web".into(), // insert_only
        name: "Ana B".into(),      // replaced
    };
    assert_eq!(stored, expected, "upsert_returning gives the row as stored");
    assert_eq!(
        rows(&db, "athlete", "id").await,
        json!([{"id": 7, "rides": 3, "km": 30.5, "longest_km": 20.5, "first_ride": 20_240_101,
                "city": "Lyon", "gear": {"bike": "road", "shoes": "new", "helmet": "red"},
                "signup_source": "web", "name": "Ana B"}])
    );
    // A non-NULL coalesce value does overwrite.
    let third = Athlete {
        city: Some("Nice".into()),
        ..second.clone()
    };
    let stored = third.upsert_returning(&db.pool).await.unwrap().unwrap();
    assert_eq!(stored.city.as_deref(), Some("Nice"));
    assert_eq!(stored.rides, 5);
    db.finish().await;
}

#[tokio::test]
async fn merge_keeps_either_side_when_the_other_is_null() {
    #[derive(AtomicUpsert)]
    #[upsert(table = "doc")]
    struct Doc {
        #[conflict_key]
        id: i32,
        #[upsert(merge)]
        body: Option<Json<serde_json::Value>>,
    }
    let db = TestDb::new(1).await;
    exec(&db, "CREATE TABLE doc (id int4 PRIMARY KEY, body jsonb)").await;
    let doc = |body: Option<serde_json::Value>| Doc {
        id: 1,
        body: body.map(Json),
    };
    doc(None).upsert(&db.pool).await.unwrap();
    doc(Some(json!({"a": 1}))).upsert(&db.pool).await.unwrap();
    assert_eq!(
        rows(&db, "doc", "id").await,
        json!([{"id": 1, "body": {"a": 1}}])
    );
    doc(None).upsert(&db.pool).await.unwrap();
    assert_eq!(
        rows(&db, "doc", "id").await,
        json!([{"id": 1, "body": {"a": 1}}])
    );
    db.finish().await;
}

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "account")]
struct Account {
    #[conflict_key]
    id: i64,
    balance: i64,
    #[upsert(version)]
    seq: i64,
}

#[tokio::test]
async fn version_guard_skips_stale_and_equal_versions() {
    let db = TestDb::new(2).await;
    exec(
        &db,
        "CREATE TABLE account (id int8 PRIMARY KEY, balance int8 NOT NULL, seq int8 NOT NULL)",
    )
    .await;
    let at = |balance, seq| Account {
        id: 1,
        balance,
        seq,
    };
    assert_eq!(
        at(100, 5).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        at(200, 7).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    // Older and equal versions are stale: untouched, Skipped, and `None` from returning.
    assert_eq!(
        at(150, 6).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(
        at(999, 7).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(at(150, 6).upsert_returning(&db.pool).await.unwrap(), None);
    assert_eq!(
        rows(&db, "account", "id").await,
        json!([{"id": 1, "balance": 200, "seq": 7}])
    );
    assert_eq!(
        at(300, 8).upsert_returning(&db.pool).await.unwrap(),
        Some(at(300, 8))
    );
    db.finish().await;
}

#[tokio::test]
async fn skip_unchanged_writes_nothing_and_keeps_updated_at() {
    #[derive(AtomicUpsert, Clone)]
    #[upsert(table = "price", skip_unchanged)]
    struct Price {
        #[conflict_key]
        sku: String,
        cents: i64,
        #[upsert(coalesce)]
        note: Option<String>,
        #[upsert(updated_at)]
        updated_at: (),
    }
    let db = TestDb::new(1).await;
    exec(
        &db,
        "CREATE TABLE price (sku text PRIMARY KEY, cents int8 NOT NULL, note text, \
         updated_at timestamptz NOT NULL)",
    )
    .await;
    let price = Price {
        sku: "A-1".into(),
        cents: 250,
        note: Some("launch".into()),
        updated_at: (),
    };
    assert_eq!(
        price.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    let state = "SELECT updated_at::text, xmin::text FROM price";
    let before: (String, String) = sqlx::query_as(state).fetch_one(&db.pool).await.unwrap();
    // Same values: Unchanged, no new row version, updated_at stays. A None `coalesce`
    // value keeps the stored note, so it changes nothing either.
    assert_eq!(
        price.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Unchanged
    );
    let no_note = Price {
        note: None,
        ..price.clone()
    };
    assert_eq!(
        no_note.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Unchanged
    );
    let after: (String, String) = sqlx::query_as(state).fetch_one(&db.pool).await.unwrap();
    assert_eq!(before, after, "updated_at and the row version did not move");
    // A real change writes and moves updated_at.
    let dearer = Price {
        cents: 300,
        ..price.clone()
    };
    assert_eq!(
        dearer.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    let moved: (String, String) = sqlx::query_as(state).fetch_one(&db.pool).await.unwrap();
    assert_ne!(before.0, moved.0, "updated_at moved on a real change");
    db.finish().await;
}

#[tokio::test]
async fn skip_unchanged_beside_a_version_tells_unchanged_from_stale() {
    #[derive(AtomicUpsert, Clone)]
    #[upsert(table = "event_state", skip_unchanged, conflict_where = "NOT archived")]
    struct EventState {
        #[conflict_key]
        id: i64,
        #[upsert(version)]
        seq: i64,
        status: String,
        archived: bool,
    }
    let db = TestDb::new(1).await;
    exec(
        &db,
        "CREATE TABLE event_state (id int8 NOT NULL, seq int8 NOT NULL, status text NOT NULL, \
         archived bool NOT NULL); \
         CREATE UNIQUE INDEX ON event_state (id) WHERE NOT archived",
    )
    .await;
    let event = |seq, status: &str| EventState {
        id: 1,
        seq,
        status: status.into(),
        archived: false,
    };
    assert_eq!(
        event(2, "paid").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    // The same event again: not newer, but nothing differs either.
    assert_eq!(
        event(2, "paid").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Unchanged
    );
    // An older event with other values: stale.
    assert_eq!(
        event(1, "new").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(
        event(3, "shipped").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    // An archived row with the same values does not make a live one unchanged.
    exec(&db, "UPDATE event_state SET archived = true").await;
    assert_eq!(
        event(3, "shipped").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        rows(&db, "event_state", "archived DESC").await,
        json!([
            {"id": 1, "seq": 3, "status": "shipped", "archived": true},
            {"id": 1, "seq": 3, "status": "shipped", "archived": false}
        ])
    );
    db.finish().await;
}

#[tokio::test]
async fn update_where_is_a_raw_guard() {
    #[derive(AtomicUpsert, Clone)]
    #[upsert(table = "listing", update_where = "NOT listing.locked")]
    struct Listing {
        #[conflict_key]
        id: i64,
        title: String,
    }
    let db = TestDb::new(1).await;
    exec(
        &db,
        "CREATE TABLE listing (id int8 PRIMARY KEY, title text NOT NULL, \
         locked bool NOT NULL DEFAULT false)",
    )
    .await;
    let listing = |title: &str| Listing {
        id: 1,
        title: title.into(),
    };
    listing("a").upsert(&db.pool).await.unwrap();
    assert_eq!(
        listing("b").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    exec(&db, "UPDATE listing SET locked = true").await;
    assert_eq!(
        listing("c").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(
        rows(&db, "listing", "id").await,
        json!([{"id": 1, "title": "b", "locked": true}])
    );
    db.finish().await;
}

#[tokio::test]
async fn constraint_target_and_returning_server_defaults() {
    #[derive(AtomicUpsert, Debug)]
    #[upsert(table = "strava_auth", constraint = "strava_auth_athlete_key")]
    struct StravaAuth {
        #[upsert(skip)]
        id: i64,
        #[conflict_key]
        athlete: i64,
        token: String,
    }
    let db = TestDb::new(1).await;
    exec(
        &db,
        "CREATE TABLE strava_auth (id int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         athlete int8 NOT NULL CONSTRAINT strava_auth_athlete_key UNIQUE, token text NOT NULL)",
    )
    .await;
    assert!(
        StravaAuth::UPSERT_SQL.contains(r#"ON CONFLICT ON CONSTRAINT "strava_auth_athlete_key""#)
    );
    let auth = |athlete, token: &str| StravaAuth {
        id: 0,
        athlete,
        token: token.into(),
    };
    let a = auth(10, "t1")
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    let b = auth(11, "t2")
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    let a2 = auth(10, "t3")
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    // The skipped identity column is read back: the database assigned it.
    assert_eq!((a.id, b.id, a2.id), (1, 2, 1));
    assert_eq!(a2.token, "t3");
    db.finish().await;
}

#[tokio::test]
async fn partial_unique_index_lets_a_new_row_in_beside_a_soft_deleted_one() {
    #[derive(AtomicUpsert)]
    #[upsert(table = "users")]
    struct UserNoPredicate {
        #[conflict_key]
        email: String,
        name: String,
    }
    #[derive(AtomicUpsert, Clone)]
    #[upsert(table = "users", conflict_where = "NOT deleted")]
    struct User {
        #[conflict_key]
        email: String,
        name: String,
        deleted: bool,
    }
    let db = TestDb::new(1).await;
    exec(
        &db,
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text NOT NULL, \
         deleted bool NOT NULL); \
         CREATE UNIQUE INDEX users_live_email ON users (email) WHERE NOT deleted",
    )
    .await;
    let user = |name: &str| User {
        email: "a@x.io".into(),
        name: name.into(),
        deleted: false,
    };
    assert_eq!(
        user("Ann").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        user("Anne").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    exec(&db, "UPDATE users SET deleted = true").await;
    // The soft-deleted row does not conflict: a new live row comes in beside it.
    assert_eq!(
        user("Annie").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        user("Anny").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    assert_eq!(
        rows(&db, "users", "id").await,
        json!([
            {"id": 1, "email": "a@x.io", "name": "Anne", "deleted": true},
            {"id": 3, "email": "a@x.io", "name": "Anny", "deleted": false}
        ])
    );
    // Without the predicate PostgreSQL finds no arbiter index: the typed error says so.
    let error = UserNoPredicate {
        email: "a@x.io".into(),
        name: "x".into(),
    }
    .upsert(&db.pool)
    .await
    .unwrap_err();
    assert!(
        matches!(error, atomic_upsert::Error::NoMatchingUniqueIndex { .. }),
        "{error}"
    );
    db.finish().await;
}
