//! Bad input gets a typed error, the table stays as it was, the pool stays usable.

use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, Error, UpsertOutcome};
use upsert_testkit::TestDb;

#[derive(AtomicUpsert)]
struct Account {
    #[conflict_key]
    id: i64,
    email: String,
    nickname: Option<String>,
    balance: i32,
}

fn account(id: i64, email: &str) -> Account {
    Account {
        id,
        email: email.into(),
        nickname: Some("nick".into()),
        balance: 0,
    }
}

async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM account")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn table_text(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(account::text, ';' ORDER BY id), '') FROM account",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn missing_unique_index_names_table_columns_and_fix() {
    // One connection: every later call proves the pool survived the error.
    let db = TestDb::new(1).await;
    sqlx::query(
        "CREATE TABLE account (id bigint NOT NULL, email text, nickname text, balance int)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let err = account(1, "a@x").upsert(&db.pool).await.unwrap_err();
    let message = err.to_string();
    let Error::NoMatchingUniqueIndex {
        table,
        columns,
        fix,
        ..
    } = &err
    else {
        panic!("expected NoMatchingUniqueIndex, got {err:?}");
    };
    assert_eq!(table, "account");
    assert_eq!(columns, &["id"]);
    assert_eq!(err.sqlstate(), Some("42P10"));
    assert!(
        message.contains("account") && message.contains("(id)"),
        "{message}"
    );
    assert!(
        message.contains(r#"CREATE UNIQUE INDEX "account_id_key" ON "account" ("id");"#),
        "{message}"
    );
    assert_eq!(count(&db.pool).await, 0);

    // The suggested fix works as written.
    sqlx::raw_sql(sqlx::AssertSqlSafe(fix.clone()))
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        account(1, "a@x").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    db.finish().await;
}

#[tokio::test]
async fn other_unique_constraint_is_reported_as_such() {
    let db = TestDb::new(1).await;
    sqlx::query(
        "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL CONSTRAINT account_email_unique UNIQUE, nickname text, balance int)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    account(1, "a@x").upsert(&db.pool).await.unwrap();
    let before = table_text(&db.pool).await;

    let err = account(2, "a@x").upsert(&db.pool).await.unwrap_err();
    match &err {
        Error::UniqueViolation {
            constraint,
            table,
            detail,
            ..
        } => {
            assert_eq!(constraint.as_deref(), Some("account_email_unique"));
            assert_eq!(table.as_deref(), Some("account"));
            assert!(
                detail.as_deref().unwrap_or_default().contains("a@x"),
                "{detail:?}"
            );
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    assert_eq!(err.sqlstate(), Some("23505"));
    assert!(err.to_string().contains("account_email_unique"), "{err}");
    // Same for insert_or_ignore: only the conflict key is ignored.
    assert!(matches!(
        account(3, "a@x").insert_or_ignore(&db.pool).await,
        Err(Error::UniqueViolation { .. })
    ));
    assert_eq!(table_text(&db.pool).await, before, "the table is unchanged");
    db.finish().await;
}

#[tokio::test]
async fn nul_byte_is_an_error_and_the_pool_survives() {
    let db = TestDb::new(1).await;
    sqlx::query("CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, nickname text, balance int)")
        .execute(&db.pool)
        .await
        .unwrap();
    account(1, "a@x").upsert(&db.pool).await.unwrap();
    let before = table_text(&db.pool).await;

    let err = account(1, "bad\0byte").upsert(&db.pool).await.unwrap_err();
    match &err {
        Error::InvalidValue { code, .. } => assert_eq!(code, "22021"),
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    assert!(err.to_string().contains("NUL"), "{err}");
    assert_eq!(table_text(&db.pool).await, before, "the table is unchanged");
    // The single pooled connection still works.
    assert_eq!(
        account(1, "b@x").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    db.finish().await;
}

#[tokio::test]
async fn check_and_not_null_violations_are_typed() {
    let db = TestDb::new(1).await;
    sqlx::query(
        "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, nickname text NOT NULL,
         balance int CONSTRAINT balance_not_negative CHECK (balance >= 0))",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut row = account(1, "a@x");
    row.balance = -5;
    match row.upsert(&db.pool).await.unwrap_err() {
        Error::CheckViolation { constraint, .. } => {
            assert_eq!(constraint.as_deref(), Some("balance_not_negative"));
        }
        other => panic!("expected CheckViolation, got {other:?}"),
    }
    row.balance = 0;
    row.nickname = None;
    match row.upsert(&db.pool).await.unwrap_err() {
        Error::NotNullViolation { column, .. } => assert_eq!(column.as_deref(), Some("nickname")),
        other => panic!("expected NotNullViolation, got {other:?}"),
    }
    assert_eq!(count(&db.pool).await, 0);
    db.finish().await;
}

#[tokio::test]
async fn missing_table_keeps_its_sqlstate() {
    let db = TestDb::new(1).await;
    let err = account(1, "a@x").upsert(&db.pool).await.unwrap_err();
    assert!(
        matches!(&err, Error::Database { code, .. } if code == "42P01"),
        "{err:?}"
    );
    assert!(err.to_string().contains("42P01"));
    db.finish().await;
}
