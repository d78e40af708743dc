//! `verify_all` on MariaDB: every derived struct linked into this test binary that MySQL can
//! take is checked with no list kept; the error names each struct that mismatches and none
//! that matches; a struct that uses what MySQL lacks (`merge`) is not registered for MySQL.

use atomic_upsert::sqlx::{self, Executor as _};
use atomic_upsert::{AtomicUpsert, Error, schema::MismatchKind};
use upsert_testkit::mysql::MyDb;

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: sqlx::types::Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

#[derive(AtomicUpsert)]
#[upsert(table = "strava_auth")]
struct StravaAuth {
    #[conflict_key]
    id: i32,
    access_token: String,
    expires_at: Option<i64>,
}

#[derive(AtomicUpsert)]
struct PageViews<'a> {
    #[conflict_key]
    url: &'a str,
    #[upsert(add)]
    views: i64,
}

/// PostgreSQL only (`merge` is jsonb `||`): no MySQL calls, no MySQL registration, so its
/// missing table is not reported on MySQL.
#[derive(AtomicUpsert)]
#[upsert(table = "profiles")]
struct Profile {
    #[conflict_key]
    id: i64,
    #[upsert(merge)]
    prefs: sqlx::types::Json<serde_json::Value>,
}

#[tokio::test]
async fn verify_all_names_every_mismatching_struct_and_only_those() {
    let db = MyDb::new(2).await;
    for ddl in [
        "CREATE TABLE strava_stats (stats_type varchar(40) PRIMARY KEY, data json NOT NULL, \
         updated_at timestamp(6) NOT NULL)",
        // `expires_at` missing.
        "CREATE TABLE strava_auth (id int PRIMARY KEY, access_token text NOT NULL)",
        // No unique index on `url`.
        "CREATE TABLE page_views (url varchar(200) NOT NULL, views bigint NOT NULL)",
    ] {
        db.pool.execute(ddl).await.unwrap();
    }
    let Err(Error::SchemaMismatch(report)) = atomic_upsert::verify_all(&db.pool).await else {
        panic!("expected a schema mismatch");
    };
    let names: Vec<&str> = report.structs().iter().map(|s| s.name).collect();
    assert_eq!(names, ["PageViews", "StravaAuth"], "{report}");
    let kinds: Vec<MismatchKind> = report
        .structs()
        .iter()
        .flat_map(|s| s.mismatches.iter().map(|m| m.kind))
        .collect();
    assert!(kinds.contains(&MismatchKind::MissingColumn), "{report}");
    assert!(kinds.contains(&MismatchKind::NoUniqueIndex), "{report}");
    assert!(report.to_string().contains("expires_at"), "{report}");

    for ddl in [
        "ALTER TABLE strava_auth ADD COLUMN expires_at bigint NULL",
        "CREATE UNIQUE INDEX page_views_url ON page_views (url)",
    ] {
        db.pool.execute(ddl).await.unwrap();
    }
    atomic_upsert::verify_all(&db.pool).await.unwrap();
    // Verified, each struct writes; and through a held connection too.
    let mut conn = db.pool.acquire().await.unwrap();
    atomic_upsert::verify_all(&mut *conn).await.unwrap();
    StravaStats {
        stats_type: "ytd".into(),
        data: sqlx::types::Json(serde_json::json!({ "km": 1 })),
        updated_at: (),
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    StravaAuth {
        id: 1,
        access_token: "t".into(),
        expires_at: Some(1 << 40),
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    PageViews { url: "/", views: 1 }
        .upsert(&db.pool)
        .await
        .unwrap();
    // The PostgreSQL-only struct is linked in (its table is absent here, unreported).
    assert_eq!(Profile::TABLE, "profiles");
}
