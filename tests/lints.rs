//! Generated code stays clean in a crate that denies warnings, unused qualifications and
//! clippy's pedantic group (`cargo clippy --all-targets` checks this file).

#![deny(warnings, unused_qualifications, clippy::pedantic)]

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::types::Json;

/// Every attribute at once.
#[derive(AtomicUpsert)]
#[upsert(schema = "app", table = "strava_auth")]
struct StravaAuth<'a> {
    #[conflict_key]
    id: i32,
    #[upsert(rename = "athlete")]
    athlete_id: i64,
    access_token: &'a str,
    #[upsert(insert_only)]
    first_token: String,
    #[upsert(skip)]
    cached: Option<Vec<u8>>,
    meta: Json<serde_json::Value>,
    #[upsert(created_at)]
    created_at: (),
    #[upsert(updated_at)]
    updated_at: (),
}

/// Only keys.
#[derive(AtomicUpsert)]
struct PostTag {
    #[conflict_key]
    post_id: i64,
    #[conflict_key]
    r#type: String,
}

#[tokio::test]
async fn generated_code_is_lint_clean() {
    let token = String::from("token");
    let auth = StravaAuth {
        id: 1,
        athlete_id: 2,
        access_token: &token,
        first_token: token.clone(),
        cached: None,
        meta: Json(serde_json::Value::Null),
        created_at: (),
        updated_at: (),
    };
    let tag = PostTag {
        post_id: 1,
        r#type: token.clone(),
    };
    // Futures are lazy: building them type-checks the calls without a server.
    let pool = atomic_upsert::sqlx::PgPool::connect_lazy("postgres://localhost/never").unwrap();
    drop(auth.upsert(&pool));
    drop(tag.insert_or_ignore(&pool));
    assert!(StravaAuth::UPSERT_SQL.starts_with(r#"INSERT INTO "app"."strava_auth""#));
    assert!(PostTag::UPSERT_SQL.contains(r#"("post_id", "type")"#));
}
