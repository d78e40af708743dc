//! The bug this crate exists for: concurrent "cron jobs" that upsert the same key.
//!
//! Each round, `WORKERS` tasks (one connection each) wait on a barrier and then all write
//! the same fresh key. The naive SELECT-then-INSERT/UPDATE must hit duplicate-key errors on
//! this workload (asserted: the test can see the race); the derive's upsert must not.

use std::sync::Arc;

use atomic_upsert::sqlx::{self, PgPool, Row as _};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use tokio::sync::Barrier;
use upsert_testkit::TestDb;

const WORKERS: usize = 8;
const ROUNDS: usize = 40;

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: sqlx::types::Json<serde_json::Value>,
}

/// The seed's unsafe pattern, in sqlx.
async fn naive_upsert(
    conn: &mut sqlx::PgConnection,
    key: &str,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let existing = sqlx::query("SELECT 1 FROM strava_stats WHERE stats_type = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    if existing.is_some() {
        sqlx::query("UPDATE strava_stats SET data = $2 WHERE stats_type = $1")
            .bind(key)
            .bind(sqlx::types::Json(data))
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query("INSERT INTO strava_stats (stats_type, data) VALUES ($1, $2)")
            .bind(key)
            .bind(sqlx::types::Json(data))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Naive,
    Atomic,
}

#[derive(Default, Debug)]
struct Tally {
    duplicate_key_errors: usize,
    other_errors: Vec<String>,
    inserted: usize,
    updated: usize,
}

async fn run_workload(pool: &PgPool, strategy: Strategy, prefix: &str) -> Tally {
    let barrier = Arc::new(Barrier::new(WORKERS));
    let mut handles = Vec::new();
    for worker in 0..WORKERS {
        let mut conn = pool.acquire().await.unwrap();
        let barrier = Arc::clone(&barrier);
        let prefix = prefix.to_owned();
        handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            for round in 0..ROUNDS {
                let key = format!("{prefix}-{round}");
                let data = serde_json::json!({ "worker": worker, "round": round });
                barrier.wait().await;
                let result = match strategy {
                    Strategy::Naive => naive_upsert(&mut conn, &key, &data).await.map_err(|e| {
                        (
                            e.as_database_error()
                                .and_then(|d| d.code().map(std::borrow::Cow::into_owned)),
                            e.to_string(),
                        )
                    }),
                    Strategy::Atomic => {
                        let row = StravaStats {
                            stats_type: key,
                            data: sqlx::types::Json(data),
                        };
                        match row.upsert(&mut *conn).await {
                            Ok(UpsertOutcome::Inserted) => {
                                tally.inserted += 1;
                                Ok(())
                            }
                            Ok(UpsertOutcome::Updated) => {
                                tally.updated += 1;
                                Ok(())
                            }
                            Ok(other) => Err((None, format!("unexpected outcome {other:?}"))),
                            Err(e) => Err((e.sqlstate().map(str::to_owned), e.to_string())),
                        }
                    }
                };
                match result {
                    Ok(()) => {}
                    Err((Some(code), _)) if code == "23505" => tally.duplicate_key_errors += 1,
                    Err((_, message)) => tally.other_errors.push(message),
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for handle in handles {
        let tally = handle.await.unwrap();
        total.duplicate_key_errors += tally.duplicate_key_errors;
        total.other_errors.extend(tally.other_errors);
        total.inserted += tally.inserted;
        total.updated += tally.updated;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn naive_pattern_races_and_atomic_upsert_does_not() {
    let db = TestDb::new(u32::try_from(WORKERS).unwrap()).await;
    sqlx::query("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();

    let naive = run_workload(&db.pool, Strategy::Naive, "naive").await;
    assert!(
        naive.other_errors.is_empty(),
        "unexpected errors: {:?}",
        naive.other_errors
    );
    assert!(
        naive.duplicate_key_errors > 0,
        "the naive pattern saw no duplicate-key error in {ROUNDS} rounds of {WORKERS} workers: \
         this workload cannot show the race"
    );

    let atomic = run_workload(&db.pool, Strategy::Atomic, "atomic").await;
    assert_eq!(atomic.duplicate_key_errors, 0);
    assert!(
        atomic.other_errors.is_empty(),
        "unexpected errors: {:?}",
        atomic.other_errors
    );
    // Exactly one insert per key; every other write updated it.
    assert_eq!(atomic.inserted, ROUNDS);
    assert_eq!(atomic.updated, ROUNDS * (WORKERS - 1));

    let rows =
        sqlx::query("SELECT stats_type, data FROM strava_stats WHERE stats_type LIKE 'atomic-%'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), ROUNDS, "exactly one row per key");
    for row in rows {
        let key: String = row.get(0);
        let data: sqlx::types::Json<serde_json::Value> = row.get(1);
        let round: usize = key.trim_start_matches("atomic-").parse().unwrap();
        assert_eq!(
            data.0["round"], round,
            "row {key} holds another round's data"
        );
        assert!(data.0["worker"].as_u64().unwrap() < WORKERS as u64);
    }
    eprintln!(
        "race: naive duplicate-key errors {} of {} writes; atomic 0",
        naive.duplicate_key_errors,
        ROUNDS * WORKERS
    );
    db.finish().await;
}
