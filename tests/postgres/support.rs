//! Helpers shared by the batch tests: a deterministic generator, and the check that a batch
//! leaves exactly what applying its rows one by one leaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use atomic_upsert::sqlx::postgres::PgPoolOptions;
use atomic_upsert::sqlx::types::Json;
use atomic_upsert::sqlx::{self, PgConnection, PgPool};
use atomic_upsert::{AtomicUpsert, BatchOutcome, BulkPath, UpsertOutcome};
use upsert_testkit::TestDb;

/// The generator every backend's suite uses.
pub use upsert_testkit::Rng;

/// The table's rows as JSON, without `id` (a sequence does not roll back).
pub async fn snapshot(conn: &mut PgConnection, table: &str, order_by: &str) -> serde_json::Value {
    let sql = format!(
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'id' ORDER BY {order_by}), '[]') FROM {table} t"
    );
    sqlx::query_scalar::<_, Json<serde_json::Value>>(sqlx::AssertSqlSafe(sql))
        .fetch_one(conn)
        .await
        .unwrap()
        .0
}

/// Seeds the table, then asserts that `batch` leaves the same rows and counts row by row
/// and in bulk: both paths on a connection lent in a transaction (`Copy` is staged by
/// `INSERT` there), and the `COPY` path on a pool, each pool run on a fresh schema that
/// `create` and `seed` set up the same way. Returns the counts.
pub async fn bulk_matches_one_by_one<T: AtomicUpsert>(
    db: &TestDb,
    create: &str,
    order_by: &str,
    seed: &[T],
    batch: &[T],
) -> BatchOutcome {
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&db.pool)
        .await
        .unwrap();
    for row in seed {
        row.upsert(&db.pool).await.unwrap();
    }
    let table = T::TABLE;

    let mut tx = db.pool.begin().await.unwrap();
    let mut expected = BatchOutcome::default();
    let mut one_by_one = Vec::new();
    for row in batch {
        let outcome = row.upsert(&mut *tx).await.unwrap();
        one_by_one.push(outcome);
        match outcome {
            UpsertOutcome::Inserted => expected.inserted += 1,
            UpsertOutcome::Updated => expected.updated += 1,
            _ => expected.skipped += 1,
        }
    }
    let expected_rows = snapshot(&mut tx, table, order_by).await;
    tx.rollback().await.unwrap();

    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let mut tx = db.pool.begin().await.unwrap();
        let outcome = T::upsert_many_via(&mut *tx, batch, path)
            .await
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let stored = snapshot(&mut tx, table, order_by).await;
        tx.rollback().await.unwrap();
        assert_eq!(
            stored, expected_rows,
            "{path:?}: stored rows differ from one by one"
        );
        assert_eq!(outcome, expected, "{path:?}: counts differ from one by one");

        // Per row, from the same single statement: what each call would have returned.
        let mut tx = db.pool.begin().await.unwrap();
        let outcomes = T::upsert_many_outcomes_via(&mut *tx, batch, path)
            .await
            .unwrap_or_else(|e| panic!("{path:?} outcomes: {e}"));
        let stored = snapshot(&mut tx, table, order_by).await;
        tx.rollback().await.unwrap();
        assert_eq!(
            stored, expected_rows,
            "{path:?}: per-row outcomes' rows differ"
        );
        assert_eq!(
            outcomes, one_by_one,
            "{path:?}: per-row outcomes differ from one by one"
        );
    }

    // The `COPY` path proper runs only on a connection the call owns (a pool's), and
    // commits: each run on a schema of its own, set up as this one was.
    for per_row in [false, true] {
        let fresh = TestDb::new(1).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&fresh.pool)
            .await
            .unwrap();
        for row in seed {
            row.upsert(&fresh.pool).await.unwrap();
        }
        if per_row {
            let outcomes = T::upsert_many_outcomes_via(&fresh.pool, batch, BulkPath::Copy)
                .await
                .unwrap_or_else(|e| panic!("COPY on a pool, outcomes: {e}"));
            assert_eq!(outcomes, one_by_one, "COPY on a pool: per-row outcomes");
        } else {
            let outcome = T::upsert_many_via(&fresh.pool, batch, BulkPath::Copy)
                .await
                .unwrap_or_else(|e| panic!("COPY on a pool: {e}"));
            assert_eq!(outcome, expected, "COPY on a pool: counts");
        }
        let mut conn = fresh.pool.acquire().await.unwrap();
        let stored = snapshot(&mut conn, table, order_by).await;
        drop(conn);
        assert_eq!(stored, expected_rows, "COPY on a pool: stored rows");
        fresh.finish().await;
    }
    expected
}

/// The `citext` extension, installed once per database in the schema `au_ext` (an
/// extension belongs to one schema; tests in their own schemas name it `au_ext.citext`).
pub async fn citext(db: &TestDb) {
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::raw_sql(
        "SELECT pg_advisory_xact_lock(7263); CREATE SCHEMA IF NOT EXISTS au_ext; \
         CREATE EXTENSION IF NOT EXISTS citext SCHEMA au_ext",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Runs `tasks` tasks for `rounds` rounds, every task starting each round together (a
/// barrier): task `t` sends `batch(t, round)` through `run`, which returns its failure.
/// Returns every failure.
pub async fn concurrent_rounds<B, F, Fut>(
    pool: &PgPool,
    (tasks, rounds): (usize, usize),
    batch: fn(usize, usize) -> Vec<B>,
    run: F,
) -> Vec<String>
where
    B: Send + 'static,
    F: Fn(PgPool, usize, Vec<B>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    let run = Arc::new(run);
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (pool, run, barrier) = (pool.clone(), Arc::clone(&run), Arc::clone(&barrier));
        handles.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            for round in 0..rounds {
                let rows = batch(task, round);
                barrier.wait().await;
                if let Some(error) = run(pool.clone(), task, rows).await {
                    errors.push(error);
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for handle in handles {
        errors.extend(handle.await.unwrap());
    }
    errors
}

/// A pool of up to `max` connections into `db`'s schema whose backends are named
/// `application_name`, for a [`Killer`] to find.
pub async fn victim_pool(db: &TestDb, application_name: &str, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max)
        .connect_with(
            upsert_testkit::connect_options()
                .application_name(application_name)
                .options([("search_path", db.schema.as_str())]),
        )
        .await
        .unwrap()
}

/// Terminates every backend named `application_name`, every `period`, until stopped.
pub struct Killer {
    done: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<i64>,
}

impl Killer {
    /// Starts killing, through `admin` (a pool whose backends are named otherwise).
    pub fn start(admin: PgPool, application_name: &'static str, period: Duration) -> Killer {
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let task = tokio::spawn(async move {
            let mut killed = 0_i64;
            while !stop.load(Ordering::Relaxed) {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE application_name = $1",
                )
                .bind(application_name)
                .fetch_one(&admin)
                .await
                .unwrap();
                killed += n;
                tokio::time::sleep(period).await;
            }
            killed
        });
        Killer { done, task }
    }

    /// Stops; returns how many backends were terminated.
    pub async fn stop(self) -> i64 {
        self.done.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}
