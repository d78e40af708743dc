//! The seed's scenario: concurrent "cron jobs" refresh Strava stats (keyed by
//! `stats_type`) and the Strava auth row (keyed by `id`).
//!
//! Each round starts from empty tables (the first run of the day, when no row exists yet)
//! and every job writes all rows at the same moment. The naive SELECT-then-INSERT/UPDATE
//! loses the race and dies with duplicate-key errors; the derive's upsert does not.
//!
//! Where it runs:
//! - no `DATABASE_URL`: an embedded SQLite file in the temporary directory, nothing to
//!   install (`cargo run --example quickstart --features sqlite`, or `./scripts/quickstart`);
//! - `DATABASE_URL=postgres://..`: that server (in a schema of its own, dropped afterwards);
//! - `--postgres`: a throwaway local PostgreSQL started for the run;
//! - `DATABASE_URL=sqlite://path`: that SQLite file.
//!
//! The structs, the jobs and the calls are the same code on both databases: the job
//! functions below are written once and stamped out for each connection type.

use std::error::Error;
use std::sync::Arc;

use atomic_upsert::sqlx::types::Json;
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

/// How a job writes its rows.
#[derive(Clone, Copy)]
enum Strategy {
    Naive,
    Atomic,
}

/// What a run of `ROUNDS` rounds of `JOBS` concurrent jobs gave.
struct Report {
    runs: usize,
    failed: usize,
    first_error: Option<String>,
}

/// The jobs and the race, for one sqlx database (`$conn` its connection, `$pool` its pool).
/// The SQL is the same text on both: `$n` parameters, `CURRENT_TIMESTAMP`, `DELETE`.
macro_rules! race {
    ($conn:ty, $pool:ty) => {
        /// The seed's "UNSAFE" code, translated to sqlx.
        async fn naive_job(
            conn: &mut $conn,
            job: usize,
            round: usize,
        ) -> Result<(), atomic_upsert::sqlx::Error> {
            for stats_type in STATS_TYPES {
                let data = Json(serde_json::json!({ "job": job, "round": round }));
                let existing =
                    atomic_upsert::sqlx::query("SELECT 1 FROM strava_stats WHERE stats_type = $1")
                        .bind(stats_type)
                        .fetch_optional(&mut *conn)
                        .await?;
                let sql = if existing.is_some() {
                    "UPDATE strava_stats SET data = $2, updated_at = CURRENT_TIMESTAMP WHERE stats_type = $1"
                } else {
                    "INSERT INTO strava_stats (stats_type, data, updated_at) VALUES ($1, $2, CURRENT_TIMESTAMP)"
                };
                atomic_upsert::sqlx::query(sql)
                    .bind(stats_type)
                    .bind(data)
                    .execute(&mut *conn)
                    .await?;
            }
            let existing = atomic_upsert::sqlx::query("SELECT 1 FROM strava_auth WHERE id = 1")
                .fetch_optional(&mut *conn)
                .await?;
            let sql = if existing.is_some() {
                "UPDATE strava_auth SET athlete_id = $2, access_token = $3, refresh_token = $4, expires_at = $5 WHERE id = $1"
            } else {
                "INSERT INTO strava_auth (id, athlete_id, access_token, refresh_token, expires_at) VALUES ($1, $2, $3, $4, $5)"
            };
            atomic_upsert::sqlx::query(sql)
                .bind(1_i32)
                .bind(12345_i64)
                .bind(format!("token-{job}-{round}"))
                .bind("refresh")
                .bind(1_735_689_600_i64)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The same job with the derive: one atomic call per row.
        async fn atomic_job(
            conn: &mut $conn,
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

        /// Runs `ROUNDS` rounds of `JOBS` concurrent jobs, each on a connection of its own.
        async fn run(pool: &$pool, strategy: Strategy) -> Report {
            let barrier = Arc::new(Barrier::new(JOBS));
            let mut handles = Vec::new();
            for job in 0..JOBS {
                let mut conn = pool.acquire().await.expect("connect");
                let barrier = Arc::clone(&barrier);
                handles.push(tokio::spawn(async move {
                    let (mut failed, mut first_error) = (0, None);
                    for round in 0..ROUNDS {
                        // One job empties the tables, then all start together.
                        if barrier.wait().await.is_leader() {
                            atomic_upsert::sqlx::raw_sql("DELETE FROM strava_stats; DELETE FROM strava_auth")
                                .execute(&mut *conn)
                                .await
                                .expect("empty the tables");
                        }
                        barrier.wait().await;
                        let result = match strategy {
                            Strategy::Naive => naive_job(&mut conn, job, round).await.map_err(|e| e.to_string()),
                            Strategy::Atomic => atomic_job(&mut conn, job, round).await.map_err(|e| e.to_string()),
                        };
                        if let Err(error) = result {
                            failed += 1;
                            first_error.get_or_insert(error);
                        }
                    }
                    (failed, first_error)
                }));
            }
            let mut report = Report { runs: JOBS * ROUNDS, failed: 0, first_error: None };
            for handle in handles {
                let (failed, first_error) = handle.await.expect("job panicked");
                report.failed += failed;
                if report.first_error.is_none() {
                    report.first_error = first_error;
                }
            }
            report
        }

        /// Checks both structs against their tables, races both ways, prints the rows.
        pub(crate) async fn race(pool: &$pool) -> Result<(), Box<dyn std::error::Error>> {
            use atomic_upsert::sqlx::Row as _;
            // Before the first write: each struct against its table, all problems at once.
            StravaStats::verify(pool).await?;
            StravaAuth::verify(pool).await?;
            println!("schema verified: StravaStats and StravaAuth match their tables");
            println!("{JOBS} concurrent cron jobs x {ROUNDS} first-run rounds, 4 rows each\n");
            let naive = run(pool, Strategy::Naive).await;
            let atomic = run(pool, Strategy::Atomic).await;
            crate::print_reports(&naive, &atomic);
            println!("final rows (atomic run):");
            let sql = "SELECT stats_type, CAST(data AS TEXT) FROM strava_stats ORDER BY stats_type";
            for row in atomic_upsert::sqlx::query(sql).fetch_all(pool).await? {
                println!("  strava_stats  {:<8} {}", row.get::<String, _>(0), row.get::<String, _>(1));
            }
            let sql = "SELECT id, athlete_id, access_token FROM strava_auth";
            for row in atomic_upsert::sqlx::query(sql).fetch_all(pool).await? {
                println!(
                    "  strava_auth   id={} athlete_id={} access_token={}",
                    row.get::<i32, _>(0),
                    row.get::<i64, _>(1),
                    row.get::<String, _>(2)
                );
            }
            if atomic.failed > 0 {
                return Err("the atomic upsert failed; please report this".into());
            }
            Ok(())
        }
    };
}

fn print_reports(naive: &Report, atomic: &Report) {
    println!("{:<32} {:>9} {:>12}", "strategy", "job runs", "failed runs");
    println!(
        "{:<32} {:>9} {:>12}",
        "naive SELECT then INSERT/UPDATE", naive.runs, naive.failed
    );
    println!(
        "{:<32} {:>9} {:>12}",
        "#[derive(AtomicUpsert)]", atomic.runs, atomic.failed
    );
    println!(
        "\nnaive errors: {}\natomic errors: {}",
        naive.failed, atomic.failed
    );
    if let Some(error) = &naive.first_error {
        println!("first naive error: {error}");
    }
    if let Some(error) = &atomic.first_error {
        println!("first atomic error: {error}");
    }
    println!();
}

mod postgres {
    use super::{
        Arc, AtomicUpsert as _, Barrier, JOBS, Json, ROUNDS, Report, STATS_TYPES, Strategy,
        StravaAuth, StravaStats, UpsertOutcome,
    };

    race!(
        atomic_upsert::sqlx::PgConnection,
        atomic_upsert::sqlx::PgPool
    );

    /// On `DATABASE_URL` (in a schema of its own), or on a throwaway local server.
    pub(crate) async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
        atomic_upsert::sqlx::raw_sql(
            "CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL);
             CREATE TABLE strava_auth (id int PRIMARY KEY, athlete_id bigint NOT NULL, access_token text NOT NULL,
                                       refresh_token text NOT NULL, expires_at bigint NOT NULL);",
        )
        .execute(&db.pool)
        .await?;
        let result = race(&db.pool).await;
        db.finish().await;
        result
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::{
        Arc, AtomicUpsert as _, Barrier, JOBS, Json, ROUNDS, Report, STATS_TYPES, Strategy,
        StravaAuth, StravaStats, UpsertOutcome,
    };
    use atomic_upsert::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    race!(
        atomic_upsert::sqlx::SqliteConnection,
        atomic_upsert::sqlx::SqlitePool
    );

    /// On the SQLite file `url` names, or a fresh one in the temporary directory.
    pub(crate) async fn main(url: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
        let fresh = url.is_none();
        let options = match &url {
            Some(url) => url.parse::<SqliteConnectOptions>()?,
            None => SqliteConnectOptions::new().filename(std::env::temp_dir().join(format!(
                "atomic-upsert-quickstart-{}.db",
                std::process::id()
            ))),
        };
        // WAL: readers do not wait for the writer; every connection waits up to 5 s
        // (sqlx's default busy timeout) for the write lock.
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let path = options.get_filename().to_owned();
        println!("SQLite: {} (embedded, nothing installed)", path.display());
        let pool = SqlitePoolOptions::new()
            .max_connections(u32::try_from(JOBS)?)
            .connect_with(options)
            .await?;
        atomic_upsert::sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS strava_stats (stats_type TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS strava_auth (id INTEGER PRIMARY KEY, athlete_id INTEGER NOT NULL, access_token TEXT NOT NULL,
                                       refresh_token TEXT NOT NULL, expires_at INTEGER NOT NULL);",
        )
        .execute(&pool)
        .await?;
        let result = race(&pool).await;
        pool.close().await;
        if fresh {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        result
    }
}

#[cfg(not(feature = "sqlite"))]
mod sqlite {
    /// Built without the `sqlite` feature: say how to get it.
    #[allow(clippy::unused_async)]
    pub(crate) async fn main(_: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
        Err(
            "without DATABASE_URL the quick start runs on an embedded SQLite file, which needs \
             the `sqlite` feature: `cargo run --example quickstart --features sqlite` (or \
             `./scripts/quickstart`). For PostgreSQL set DATABASE_URL=postgres://.. or pass \
             `--postgres` for a throwaway local server."
                .into(),
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let postgres = std::env::args().skip(1).any(|arg| arg == "--postgres");
    match std::env::var("DATABASE_URL").ok() {
        Some(url) if url.starts_with("sqlite:") => sqlite::main(Some(url)).await,
        Some(_) => postgres::main().await,
        None if postgres => postgres::main().await,
        None => sqlite::main(None).await,
    }
}
