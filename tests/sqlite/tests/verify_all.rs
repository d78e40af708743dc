//! `verify_all` on SQLite: every derived struct linked into this test binary that SQLite
//! can take is checked with no list kept; the error names each struct that mismatches and
//! none that matches; a struct that uses what SQLite lacks (a `constraint` target) is not
//! registered for SQLite.

use atomic_upsert::schema::MismatchKind;
use atomic_upsert::{AtomicUpsert, Error};
use sqlx::{Connection as _, Executor as _, SqliteConnection};

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    runs: i64,
    #[upsert(updated_at)]
    updated_at: (),
}

#[derive(AtomicUpsert)]
#[upsert(table = "strava_auth")]
struct StravaAuth {
    #[conflict_key]
    id: i64,
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

/// PostgreSQL only (a named constraint as the target): no SQLite calls, no SQLite
/// registration, so its missing table is not reported on SQLite.
#[derive(AtomicUpsert)]
#[upsert(table = "profiles", constraint = "profiles_pkey")]
struct Profile {
    #[conflict_key]
    id: i64,
    name: String,
}

#[tokio::test]
async fn verify_all_names_every_mismatching_struct_and_only_those() {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    conn.execute(
        "CREATE TABLE strava_stats (stats_type TEXT PRIMARY KEY, runs INTEGER NOT NULL, \
           updated_at TEXT NOT NULL); \
         CREATE TABLE strava_auth (id INTEGER PRIMARY KEY, access_token TEXT NOT NULL); \
         CREATE TABLE page_views (url TEXT NOT NULL, views INTEGER NOT NULL);",
    )
    .await
    .unwrap();
    let Err(Error::SchemaMismatch(report)) = atomic_upsert::verify_all(&mut conn).await else {
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

    conn.execute(
        "ALTER TABLE strava_auth ADD COLUMN expires_at INTEGER; \
         CREATE UNIQUE INDEX page_views_url ON page_views (url);",
    )
    .await
    .unwrap();
    atomic_upsert::verify_all(&mut conn).await.unwrap();
    // Verified, each struct writes.
    StravaStats {
        stats_type: "ytd".into(),
        runs: 1,
        updated_at: (),
    }
    .upsert(&mut conn)
    .await
    .unwrap();
    StravaAuth {
        id: 1,
        access_token: "t".into(),
        expires_at: None,
    }
    .upsert(&mut conn)
    .await
    .unwrap();
    PageViews { url: "/", views: 1 }
        .upsert(&mut conn)
        .await
        .unwrap();
    // The PostgreSQL-only struct is linked in (its table is absent here, unreported).
    assert_eq!(Profile::TABLE, "profiles");
}
