//! The MySQL backend's calls beyond the conformance suite, on a throwaway MariaDB:
//! `upsert_returning` (MariaDB's `RETURNING`, `None` when a guard held the update back),
//! `verify` (the other unique index `ON DUPLICATE KEY UPDATE` would also fire on), and the
//! statements a call sends.

use atomic_upsert::sqlx::mysql::MySql;
use atomic_upsert::sqlx::{self, Connection as _, Executor as _};
use atomic_upsert::{AtomicUpsert, Error, UpsertOutcome, schema::MismatchKind};
use upsert_testkit::mysql::MyDb;

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "docs")]
struct Doc {
    #[conflict_key]
    id: i64,
    body: String,
    #[upsert(version)]
    version: i64,
}

const DOCS: &str = "CREATE TABLE docs (id bigint PRIMARY KEY, body varchar(100) NOT NULL, version bigint NOT NULL)";

fn doc(body: &str, version: i64) -> Doc {
    Doc {
        id: 1,
        body: body.into(),
        version,
    }
}

#[tokio::test]
async fn upsert_returning_reads_the_stored_row_back_and_none_when_held() {
    let db = MyDb::new(2).await;
    db.pool.execute(DOCS).await.unwrap();
    // Through the pool.
    assert_eq!(
        doc("a", 1).upsert_returning(&db.pool).await.unwrap(),
        Some(doc("a", 1))
    );
    assert_eq!(
        doc("b", 2).upsert_returning(&db.pool).await.unwrap(),
        Some(doc("b", 2))
    );
    // A stale version: the guard held the update back, as on PostgreSQL: `None`.
    assert_eq!(
        doc("stale", 1).upsert_returning(&db.pool).await.unwrap(),
        None
    );
    // On a held connection and inside the caller's transaction.
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        doc("c", 3).upsert_returning(&mut *conn).await.unwrap(),
        Some(doc("c", 3))
    );
    let mut tx = conn.begin().await.unwrap();
    assert_eq!(
        doc("d", 4).upsert_returning(&mut *tx).await.unwrap(),
        Some(doc("d", 4))
    );
    assert_eq!(doc("e", 4).upsert_returning(&mut *tx).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(
        doc("f", 4).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    let stored: (String, i64) = sqlx::query_as("SELECT body, version FROM docs WHERE id = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, ("d".to_owned(), 4));
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "users")]
struct User {
    #[conflict_key]
    id: i64,
    email: String,
}

#[tokio::test]
async fn verify_reports_another_unique_index_the_upsert_would_fire_on() {
    let db = MyDb::new(2).await;
    let error = User::verify(&db.pool).await.unwrap_err();
    let Error::SchemaMismatch(report) = &error else {
        panic!("{error:?}");
    };
    assert!(
        report
            .mismatches()
            .any(|(_, m)| m.kind == MismatchKind::MissingTable),
        "{report}"
    );

    db.pool
        .execute("CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL UNIQUE)")
        .await
        .unwrap();
    let error = User::verify(&db.pool).await.unwrap_err();
    let Error::SchemaMismatch(report) = &error else {
        panic!("{error:?}");
    };
    let kinds: Vec<MismatchKind> = report.mismatches().map(|(_, m)| m.kind).collect();
    assert_eq!(kinds, [MismatchKind::OtherUniqueIndex], "{report}");
    assert!(report.to_string().contains("email"), "{report}");

    // What it warns of, shown: a row that clashes only on `email` updates the other row.
    User {
        id: 1,
        email: "ann@x".into(),
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    let outcome = User {
        id: 2,
        email: "ann@x".into(),
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    assert_eq!(outcome, UpsertOutcome::Updated);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids, [1], "row 1 was updated, no row 2 exists");

    db.pool.execute("DROP TABLE users").await.unwrap();
    db.pool
        .execute("CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL)")
        .await
        .unwrap();
    User::verify(&db.pool).await.unwrap();
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "typed")]
struct Typed {
    #[conflict_key]
    id: i64,
    total: String,
    label: String,
    note: Option<String>,
    flag: bool,
    data: atomic_upsert::sqlx::types::Json<serde_json::Value>,
}

#[tokio::test]
async fn verify_checks_each_column_type_with_sqlx_rule() {
    // One connection: the second `verify` after `ALTER TABLE` must not read a description
    // the first one left in sqlx's statement cache.
    let db = MyDb::new(1).await;
    // `String` into `bigint`, and `i64` into `bigint unsigned` (sqlx refuses to read an
    // unsigned column into a signed type).
    db.pool
        .execute(
            "CREATE TABLE typed (id bigint unsigned PRIMARY KEY, total bigint NOT NULL, \
             label varchar(20) NOT NULL, note text NULL, flag boolean NOT NULL, data json NOT NULL)",
        )
        .await
        .unwrap();
    let error = Typed::verify(&db.pool).await.unwrap_err();
    let Error::SchemaMismatch(report) = &error else {
        panic!("{error:?}");
    };
    let found: Vec<(MismatchKind, Option<&str>)> = report
        .mismatches()
        .map(|(_, m)| (m.kind, m.field.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (MismatchKind::ColumnType, Some("id")),
            (MismatchKind::ColumnType, Some("total"))
        ],
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("MODIFY `total` varchar(255) NOT NULL"),
        "{report}"
    );
    assert!(text.contains("bigint(20) unsigned"), "{report}");
    // What it warns of, shown: a `String` into `bigint` fails at the first write.
    let row = Typed {
        id: 1,
        total: "ten".into(),
        label: "a".into(),
        note: None,
        flag: true,
        data: atomic_upsert::sqlx::types::Json(serde_json::json!({})),
    };
    assert!(row.upsert(&db.pool).await.is_err());

    db.pool
        .execute("ALTER TABLE typed MODIFY id bigint NOT NULL, MODIFY total varchar(255) NOT NULL")
        .await
        .unwrap();
    Typed::verify(&db.pool).await.unwrap();
    row.upsert(&db.pool).await.unwrap();
}

#[test]
fn the_statements_are_mysqls() {
    let sql = Doc::statements::<MySql>();
    assert!(
        sql.upsert.contains("ON DUPLICATE KEY UPDATE"),
        "{}",
        sql.upsert
    );
    assert!(
        sql.upsert_returning.ends_with("LAST_INSERT_ID()"),
        "{}",
        sql.upsert_returning
    );
    assert!(
        sql.upsert_many.starts_with("INSERT INTO `docs`"),
        "{}",
        sql.upsert_many
    );
    assert_eq!(sql.update_first, None);
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "stats")]
struct Stat {
    #[conflict_key]
    stats_type: String,
    #[upsert(add)]
    runs: i64,
}

/// Two transactions that each hold one key and then ask for the other's: InnoDB picks a
/// victim (1213, SQLSTATE 40001), which the call answers as a transient error naming the
/// transaction to retry; the other commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_typed_transient() {
    let db = MyDb::new(2).await;
    db.pool
        .execute("CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY, runs bigint NOT NULL)")
        .await
        .unwrap();
    for key in ["a", "b"] {
        Stat {
            stats_type: key.into(),
            runs: 1,
        }
        .upsert(&db.pool)
        .await
        .unwrap();
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for (first, second) in [("a", "b"), ("b", "a")] {
        let (pool, barrier) = (db.pool.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            Stat {
                stats_type: first.into(),
                runs: 1,
            }
            .upsert(&mut *tx)
            .await?;
            barrier.wait().await;
            Stat {
                stats_type: second.into(),
                runs: 1,
            }
            .upsert(&mut *tx)
            .await?;
            tx.commit().await.map_err(Error::from)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "one victim: {results:?}");
    let error = failed[0];
    assert!(
        matches!(error, Error::Database { code, .. } if code == "40001"),
        "{error:?}"
    );
    assert!(error.is_transient(), "{error}");
}
