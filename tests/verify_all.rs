//! `verify_all`: every derived struct linked into this test binary (and only these three)
//! is checked with no list kept; the error names each struct that mismatches and none that
//! matches. `verify!` does the same for a list of structs.

use atomic_upsert::sqlx;
use atomic_upsert::{AtomicUpsert, Error};
use upsert_testkit::TestDb;

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
    expires_at: i64,
}

#[derive(AtomicUpsert)]
struct PageViews<'a> {
    #[conflict_key]
    url: &'a str,
    #[upsert(add)]
    views: i64,
}

#[tokio::test]
async fn verify_all_names_every_mismatching_struct_and_only_those() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL, \
           updated_at timestamptz NOT NULL); \
         CREATE TABLE strava_auth (id int4 PRIMARY KEY, access_token text NOT NULL, expires_at int4 NOT NULL); \
         CREATE TABLE page_views (url text NOT NULL, views int8 NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let Err(Error::SchemaMismatch(report)) = atomic_upsert::verify_all(&db.pool).await else {
        panic!("expected a schema mismatch");
    };
    let names: Vec<&str> = report.structs().iter().map(|s| s.name).collect();
    assert_eq!(names, ["PageViews", "StravaAuth"], "{report}");
    // The same for a list: `verify!` does not stop at the first struct, and names only the
    // structs listed, in list order, on the pool and on a held connection.
    let Err(Error::SchemaMismatch(listed)) =
        atomic_upsert::verify!(&db.pool, StravaAuth, StravaStats, PageViews<'static>).await
    else {
        panic!("expected a schema mismatch");
    };
    let names: Vec<&str> = listed.structs().iter().map(|s| s.name).collect();
    assert_eq!(names, ["StravaAuth", "PageViews"], "{listed}");
    // What `main() -> Result<(), Error>` prints: `Debug`, which reads as the report.
    let mismatches = listed.mismatches().count();
    let printed = format!("{:?}", Error::SchemaMismatch(listed));
    eprintln!("Error: {printed}");
    assert!(printed.starts_with("SchemaMismatch: "), "{printed}");
    assert_eq!(
        printed.lines().count(),
        1 + mismatches,
        "one line each: {printed}"
    );
    let mut conn = db.pool.acquire().await.unwrap();
    atomic_upsert::verify!(&mut *conn, StravaStats)
        .await
        .unwrap();
    drop(conn);
    assert!(report.to_string().contains("expires_at"), "{report}");
    assert!(
        report.to_string().contains("CREATE UNIQUE INDEX"),
        "{report}"
    );

    sqlx::raw_sql(
        "ALTER TABLE strava_auth ALTER COLUMN expires_at TYPE int8; \
         CREATE UNIQUE INDEX ON page_views (url)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    atomic_upsert::verify_all(&db.pool).await.unwrap();
    // Verified, each struct writes.
    let stats = StravaStats {
        stats_type: "ytd".into(),
        data: sqlx::types::Json(serde_json::json!({ "km": 1 })),
        updated_at: (),
    };
    stats.upsert(&db.pool).await.unwrap();
    let auth = StravaAuth {
        id: 1,
        access_token: "t".into(),
        expires_at: 1 << 40,
    };
    auth.upsert(&db.pool).await.unwrap();
    PageViews { url: "/", views: 1 }
        .upsert(&db.pool)
        .await
        .unwrap();
    // On a held connection and inside a transaction too.
    let mut conn = db.pool.acquire().await.unwrap();
    atomic_upsert::verify_all(&mut *conn).await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    atomic_upsert::verify_all(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    drop(conn);
    db.finish().await;
}
