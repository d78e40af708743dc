//! Every attribute, checked on the server: the SQL is accepted and does what it says.

use std::time::Duration;

use atomic_upsert::sqlx::{self, Row as _};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use upsert_testkit::TestDb;

/// Reserved words as column names, a schema, a rename, and every field flag.
#[derive(AtomicUpsert)]
#[upsert(schema = "attr_app", table = "order")]
struct OrderRow {
    #[conflict_key]
    user: i64,
    #[conflict_key]
    #[upsert(rename = "group")]
    group_name: String,
    #[upsert(rename = "select")]
    total: i32,
    #[upsert(insert_only)]
    first_total: i32,
    #[upsert(skip)]
    note: Option<Vec<std::net::Ipv4Addr>>,
    #[upsert(created_at)]
    created_at: (),
    #[upsert(updated_at)]
    updated_at: (),
}

#[test]
fn statement_text() {
    assert_eq!(
        OrderRow::UPSERT_SQL,
        r#"INSERT INTO "attr_app"."order" ("user", "group", "select", "first_total", "created_at", "updated_at") VALUES ($1, $2, $3, $4, now(), now()) ON CONFLICT ("user", "group") DO UPDATE SET "select" = EXCLUDED."select", "updated_at" = now() RETURNING (xmax = 0)"#
    );
    assert_eq!(OrderRow::TABLE, "order");
    assert_eq!(OrderRow::SCHEMA, Some("attr_app"));
    assert_eq!(OrderRow::CONFLICT_COLUMNS, ["user", "group"]);
}

#[tokio::test]
async fn every_attribute_on_the_server() {
    let db = TestDb::new(2).await;
    // The schema is fixed by the attribute; this is the only test that uses it.
    sqlx::raw_sql(
        r#"CREATE SCHEMA IF NOT EXISTS attr_app;
           DROP TABLE IF EXISTS attr_app."order";
           CREATE TABLE attr_app."order" (
               "user" bigint NOT NULL,
               "group" text NOT NULL,
               "select" int NOT NULL,
               first_total int NOT NULL,
               note text NOT NULL DEFAULT 'db default',
               created_at timestamptz NOT NULL,
               updated_at timestamptz NOT NULL,
               PRIMARY KEY ("user", "group"))"#,
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let mut row = OrderRow {
        user: 1,
        group_name: "admins".into(),
        total: 10,
        first_total: 10,
        note: None,
        created_at: (),
        updated_at: (),
    };
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Inserted);
    let select = r#"SELECT "select", first_total, note, created_at = updated_at AS same, created_at::text AS created, updated_at::text AS updated FROM attr_app."order" WHERE "user" = 1 AND "group" = 'admins'"#;
    let first = sqlx::query(select).fetch_one(&db.pool).await.unwrap();
    assert_eq!(first.get::<i32, _>("select"), 10);
    assert_eq!(
        first.get::<String, _>("note"),
        "db default",
        "skip leaves the default"
    );
    assert!(
        first.get::<bool, _>("same"),
        "on insert created_at = updated_at = now()"
    );

    tokio::time::sleep(Duration::from_millis(20)).await;
    row.total = 25;
    row.first_total = 99;
    assert_eq!(row.upsert(&db.pool).await.unwrap(), UpsertOutcome::Updated);
    let second = sqlx::query(select).fetch_one(&db.pool).await.unwrap();
    assert_eq!(
        second.get::<i32, _>("select"),
        25,
        "plain fields are replaced"
    );
    assert_eq!(
        second.get::<i32, _>("first_total"),
        10,
        "insert_only keeps its first value"
    );
    assert_eq!(
        second.get::<String, _>("note"),
        "db default",
        "skip never writes"
    );
    assert!(
        !second.get::<bool, _>("same"),
        "updated_at moved away from created_at"
    );
    // created_at is untouched; updated_at advanced (compared on the server).
    let (created_kept, updated_advanced): (bool, bool) = sqlx::query_as(
        r#"SELECT created_at = $1::timestamptz, updated_at > $2::timestamptz FROM attr_app."order""#,
    )
    .bind(first.get::<String, _>("created"))
    .bind(first.get::<String, _>("updated"))
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(created_kept, "created_at keeps its first value");
    assert!(updated_advanced, "updated_at advances on update");
    sqlx::raw_sql("DROP SCHEMA attr_app CASCADE")
        .execute(&db.pool)
        .await
        .unwrap();
    db.finish().await;
}
