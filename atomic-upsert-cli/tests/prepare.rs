//! `prepare` writes the snapshot of a real schema, `prepare --check` passes on it and fails
//! once the schema changes; the UI suite's snapshot fixture is exactly `prepare`'s output for
//! `tests/ui-schema/schema.sql`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atomic_upsert::schema::Snapshot;
use atomic_upsert::sqlx;
use upsert_testkit::TestDb;

fn cli(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
        .arg("prepare")
        .args(["--schema", &db.schema])
        .args(args)
        .env("DATABASE_URL", &upsert_testkit::server().url)
        .output()
        .expect("the CLI runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn prepare_then_check_then_a_changed_schema_fails_the_check() {
    let db = TestDb::new(1).await;
    let ddl = std::fs::read_to_string(root().join("tests/ui-schema/schema.sql")).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&db.pool)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("au-prepare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("atomic-upsert.schema");
    let out = file.to_str().unwrap();

    let written = cli(&db, &["--output", out]);
    assert!(written.status.success(), "{written:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    let snapshot = Snapshot::parse(&text).unwrap();
    assert_eq!(snapshot.search_path, std::slice::from_ref(&db.schema));
    assert!(snapshot.resolve(None, "strava_stats").is_some());
    let users = snapshot.resolve(None, "users").unwrap();
    assert_eq!(users.indexes[0].predicate.as_deref(), Some("(NOT deleted)"));

    // The committed fixture is this output with the schema named `app`.
    let fixture_path = root().join("tests/ui-schema/atomic-upsert.schema");
    let as_app = text.replace(&db.schema, "app");
    if std::env::var_os("ATOMIC_UPSERT_BLESS").is_some() {
        std::fs::write(&fixture_path, &as_app).unwrap();
    }
    let fixture = std::fs::read_to_string(&fixture_path).unwrap_or_default();
    assert!(
        fixture == as_app,
        "tests/ui-schema/atomic-upsert.schema is stale: rerun with ATOMIC_UPSERT_BLESS=1"
    );

    let fresh = cli(&db, &["--output", out, "--check"]);
    assert!(fresh.status.success(), "{fresh:?}");

    sqlx::raw_sql("ALTER TABLE scores ADD COLUMN bonus int4; DROP INDEX users_live")
        .execute(&db.pool)
        .await
        .unwrap();
    let stale = cli(&db, &["--output", out, "--check"]);
    assert_eq!(stale.status.code(), Some(1), "{stale:?}");
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert!(stderr.contains("scores.bonus: new column"), "{stderr}");
    assert!(
        stderr.contains("users: unique indexes or kind changed"),
        "{stderr}"
    );

    let missing = cli(
        &db,
        &["--output", dir.join("none").to_str().unwrap(), "--check"],
    );
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    db.finish().await;
}
