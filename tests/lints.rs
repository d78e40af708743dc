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

/// Every strategy, guard and target attribute.
#[derive(AtomicUpsert)]
#[upsert(table = "totals", skip_unchanged, conflict_where = "NOT deleted")]
struct Totals {
    #[conflict_key]
    athlete: i64,
    #[upsert(add)]
    rides: i32,
    #[upsert(greatest)]
    longest: f64,
    #[upsert(least)]
    first: i32,
    #[upsert(coalesce)]
    city: Option<String>,
    #[upsert(merge)]
    gear: Json<serde_json::Value>,
    #[upsert(version)]
    seq: i64,
}

/// The constraint target and the raw guard.
#[derive(AtomicUpsert)]
#[upsert(constraint = "listing_pkey", update_where = "NOT listing.locked")]
struct Listing {
    #[conflict_key]
    id: i64,
    title: String,
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
    let totals = Totals {
        athlete: 1,
        rides: 1,
        longest: 1.0,
        first: 1,
        city: None,
        gear: Json(serde_json::Value::Null),
        seq: 1,
    };
    drop(totals.upsert_returning(&pool));
    drop(Totals::upsert_many(&pool, std::slice::from_ref(&totals)));
    let listing = Listing {
        id: 1,
        title: token.clone(),
    };
    drop(listing.upsert_returning(&pool));
    assert!(StravaAuth::UPSERT_SQL.starts_with(r#"INSERT INTO "app"."strava_auth""#));
    assert!(PostTag::UPSERT_SQL.contains(r#"("post_id", "type")"#));
}
