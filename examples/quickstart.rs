//! The seed's scenario: concurrent "cron jobs" refresh Strava stats (keyed by
//! `stats_type`) and the Strava auth row (keyed by `id`).
//!
//! Each round starts from empty tables (the first run of the day, when no row exists yet)
//! and every job writes all rows at the same moment. The naive SELECT-then-INSERT/UPDATE
//! loses the race and dies with duplicate-key errors; the derive's upsert does not.
//!
//! Run with `cargo run --example quickstart`. It uses `DATABASE_URL` if set (and creates,
//! then drops, its own schema there), otherwise a throwaway local PostgreSQL.

use std::sync::Arc;

use atomic_upsert::sqlx::{self, PgConnection, Row as _, types::Json};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use tokio::sync::Barrier;

const JOBS: usize = 8;
const ROUNDS: usize = 25;
const STATS_TYPES: [&str; 3] = ["ytd", "recent", "all"];

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

#[derive(AtomicUpsert)]
#[upsert(table = "strava_auth")]
struct StravaAuth {
    #[conflict_key]
    id: i32,
    athlete_id: i64,
    access_token: String,
    refresh_token: String,
    expires_at: i64,
}

/// The seed's "UNSAFE" code, translated to sqlx.
async fn naive_job(conn: &mut PgConnection, job: usize, round: usize) -> Result<(), sqlx::Error> {
    for stats_type in STATS_TYPES {
        let data = Json(serde_json::json!({ "job": job, "round": round }));
        let existing = sqlx::query("SELECT 1 FROM strava_stats WHERE stats_type = $1")
            .bind(stats_type)
            .fetch_optional(&mut *conn)
            .await?;
        let sql = if existing.is_some() {
            "UPDATE strava_stats SET data = $2, updated_at = now() WHERE stats_type = $1"
        } else {
            "INSERT INTO strava_stats (stats_type, data, updated_at) VALUES ($1, $2, now())"
        };
        sqlx::query(sql)
            .bind(stats_type)
            .bind(data)
            .execute(&mut *conn)
            .await?;
    }
    let existing = sqlx::query("SELECT 1 FROM strava_auth WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    let sql = if existing.is_some() {
        "UPDATE strava_auth SET athlete_id = $2, access_token = $3, refresh_token = $4, expires_at = $5 WHERE id = $1"
    } else {
        "INSERT INTO strava_auth (id, athlete_id, access_token, refresh_token, expires_at) VALUES ($1, $2, $3, $4, $5)"
    };
    sqlx::query(sql)
        .bind(1_i32)
        .bind(12345_i64)
        .bind(format!("token-{job}-{round}"))
        .bind("refresh")
        .bind(1_735_689_600_i64)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The same job with the derive: one atomic statement per row.
async fn atomic_job(
    conn: &mut PgConnection,
    job: usize,
    round: usize,
) -> Result<(), atomic_upsert::Error> {
    for stats_type in STATS_TYPES {
        let stats = StravaStats {
            stats_type: stats_type.into(),
            data: Json(serde_json::json!({ "job": job, "round": round })),
            updated_at: (),
        };
        stats.upsert(&mut *conn).await?;
    }
    let auth = StravaAuth {
        id: 1,
        athlete_id: 12345,
        access_token: format!("token-{job}-{round}"),
        refresh_token: "refresh".into(),
        expires_at: 1_735_689_600,
    };
    let outcome = auth.upsert(&mut *conn).await?;
    debug_assert!(matches!(
        outcome,
        UpsertOutcome::Inserted | UpsertOutcome::Updated
    ));
    Ok(())
}

#[derive(Clone, Copy)]
enum Strategy {
    Naive,
    Atomic,
}

/// Runs `ROUNDS` rounds of `JOBS` concurrent jobs; returns (jobs run, jobs failed).
async fn run(pool: &sqlx::PgPool, strategy: Strategy) -> (usize, usize) {
    let barrier = Arc::new(Barrier::new(JOBS));
    let mut handles = Vec::new();
    for job in 0..JOBS {
        let mut conn = pool.acquire().await.expect("connect");
        let barrier = Arc::clone(&barrier);
        handles.push(tokio::spawn(async move {
            let mut failed = 0;
            for round in 0..ROUNDS {
                // One job empties the tables, then all start together.
                if barrier.wait().await.is_leader() {
                    sqlx::raw_sql("TRUNCATE strava_stats, strava_auth")
                        .execute(&mut *conn)
                        .await
                        .expect("truncate");
                }
                barrier.wait().await;
                let ok = match strategy {
                    Strategy::Naive => naive_job(&mut conn, job, round).await.is_ok(),
                    Strategy::Atomic => atomic_job(&mut conn, job, round).await.is_ok(),
                };
                failed += usize::from(!ok);
            }
            failed
        }));
    }
    let mut failed = 0;
    for handle in handles {
        failed += handle.await.expect("job panicked");
    }
    (JOBS * ROUNDS, failed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = upsert_testkit::server();
    println!(
        "PostgreSQL: {}",
        if server.throwaway {
            "throwaway local server"
        } else {
            "DATABASE_URL"
        }
    );
    let db = upsert_testkit::TestDb::new(u32::try_from(JOBS)?).await;
    sqlx::raw_sql(
        "CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL);
         CREATE TABLE strava_auth (id int PRIMARY KEY, athlete_id bigint NOT NULL, access_token text NOT NULL,
                                   refresh_token text NOT NULL, expires_at bigint NOT NULL);",
    )
    .execute(&db.pool)
    .await?;
    // Before the first write: every derived struct against its table, all problems at once.
    atomic_upsert::verify_all(&db.pool).await?;
    println!("schema verified: StravaStats and StravaAuth match their tables");

    println!("{JOBS} concurrent cron jobs x {ROUNDS} first-run rounds, 4 rows each\n");
    let (naive_runs, naive_failed) = run(&db.pool, Strategy::Naive).await;
    let (atomic_runs, atomic_failed) = run(&db.pool, Strategy::Atomic).await;
    println!("{:<32} {:>9} {:>12}", "strategy", "job runs", "failed runs");
    println!(
        "{:<32} {:>9} {:>12}",
        "naive SELECT then INSERT/UPDATE", naive_runs, naive_failed
    );
    println!(
        "{:<32} {:>9} {:>12}",
        "#[derive(AtomicUpsert)]", atomic_runs, atomic_failed
    );
    println!("\nnaive errors: {naive_failed}\natomic errors: {atomic_failed}\n");

    println!("final rows (atomic run):");
    for row in sqlx::query("SELECT stats_type, data::text FROM strava_stats ORDER BY stats_type")
        .fetch_all(&db.pool)
        .await?
    {
        println!(
            "  strava_stats  {:<8} {}",
            row.get::<String, _>(0),
            row.get::<String, _>(1)
        );
    }
    for row in sqlx::query("SELECT id, athlete_id, access_token FROM strava_auth")
        .fetch_all(&db.pool)
        .await?
    {
        println!(
            "  strava_auth   id={} athlete_id={} access_token={}",
            row.get::<i32, _>(0),
            row.get::<i64, _>(1),
            row.get::<String, _>(2)
        );
    }
    db.finish().await;
    if atomic_failed > 0 {
        return Err("the atomic upsert failed; please report this".into());
    }
    Ok(())
}
