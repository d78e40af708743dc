//! A tour of the conflict strategies and guards on the seed's Strava scenario.
//!
//! - `add`: 8 concurrent jobs count rides into one row; no increment is lost.
//! - `greatest`, `merge` and `coalesce`: partial stats never wipe what is stored.
//! - `version`: a late, older event is skipped instead of overwriting newer state.
//! - `conflict_where`: a soft-deleted auth row lets a new live row in.
//! - `upsert_returning`: the row as stored, with no `FromRow`.
//!
//! Run with `cargo run --example strategies`. It uses `DATABASE_URL` if set (in its own
//! schema, dropped at the end), otherwise a throwaway local PostgreSQL.

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{self, types::Json};
use serde_json::json;

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    #[upsert(add)]
    rides: i64,
    #[upsert(greatest)]
    longest_km: f64,
    #[upsert(merge)]
    data: Json<serde_json::Value>,
    #[upsert(coalesce)]
    city: Option<String>,
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "athlete_sync")]
struct AthleteSync {
    #[conflict_key]
    athlete_id: i64,
    #[upsert(version)]
    event_seq: i64,
    status: String,
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "strava_auth", conflict_where = "NOT revoked")]
struct StravaAuth {
    #[upsert(skip)]
    id: i64,
    #[conflict_key]
    athlete_id: i64,
    access_token: String,
    revoked: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = upsert_testkit::TestDb::new(8).await;
    sqlx::raw_sql(
        "CREATE TABLE strava_stats (stats_type text PRIMARY KEY, rides int8 NOT NULL, \
           longest_km float8 NOT NULL, data jsonb NOT NULL, city text);
         CREATE TABLE athlete_sync (athlete_id int8 PRIMARY KEY, event_seq int8 NOT NULL, \
           status text NOT NULL);
         CREATE TABLE strava_auth (id int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
           athlete_id int8 NOT NULL, access_token text NOT NULL, revoked bool NOT NULL);
         CREATE UNIQUE INDEX live_auth ON strava_auth (athlete_id) WHERE NOT revoked;",
    )
    .execute(&db.pool)
    .await?;

    // add: 8 jobs x 50 rides on one key, all at once.
    let mut jobs = Vec::new();
    for job in 0..8_u8 {
        let pool = db.pool.clone();
        jobs.push(tokio::spawn(async move {
            for i in 0..50_u8 {
                let ride = StravaStats {
                    stats_type: "ytd".into(),
                    rides: 1,
                    longest_km: f64::from(job * 10 + i % 7),
                    data: Json(json!({ format!("job{job}"): i })),
                    city: None,
                };
                ride.upsert(&pool).await?;
            }
            Ok::<_, atomic_upsert::Error>(())
        }));
    }
    for job in jobs {
        job.await??;
    }

    // upsert_returning after a partial update: the counter, the record, the merged
    // object and the city, as stored.
    let partial = StravaStats {
        stats_type: "ytd".into(),
        rides: 0,
        longest_km: 0.0,
        data: Json(json!({ "source": "manual" })),
        city: Some("Lyon".into()),
    };
    if let Some(stored) = partial.upsert_returning(&db.pool).await? {
        println!(
            "add/greatest/merge/coalesce: {} rides counted of 400 sent, longest {} km, \
             data keys {:?}, city {:?}",
            stored.rides,
            stored.longest_km,
            stored
                .data
                .0
                .as_object()
                .map(|o| o.keys().collect::<Vec<_>>()),
            stored.city
        );
    }

    // version: events arrive out of order; a late, older one is skipped.
    for (seq, status) in [(1, "created"), (3, "paid"), (2, "pending")] {
        let outcome = AthleteSync {
            athlete_id: 7,
            event_seq: seq,
            status: status.into(),
        }
        .upsert(&db.pool)
        .await?;
        println!("version: event {seq} ({status}) -> {outcome:?}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM athlete_sync")
        .fetch_one(&db.pool)
        .await?;
    println!("version: stored status {status:?}");

    // conflict_where: revoke the live token, then a new live row comes in beside it.
    let auth = |token: &str| StravaAuth {
        id: 0,
        athlete_id: 42,
        access_token: token.into(),
        revoked: false,
    };
    let first = auth("t1").upsert_returning(&db.pool).await?;
    sqlx::query("UPDATE strava_auth SET revoked = true")
        .execute(&db.pool)
        .await?;
    let second = auth("t2").upsert_returning(&db.pool).await?;
    println!(
        "auth rows: revoked id {:?}, new live id {:?}",
        first.map(|a| a.id),
        second.map(|a| a.id)
    );
    db.finish().await;
    Ok(())
}
