//! Single-row upserts: the seed's `strava_stats` table, five strategies, three workloads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgConnection, PgPool, Row as _, types::Json};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use hdrhistogram::Histogram;

/// The seed's `StravaStats`: one row per `stats_type`, a jsonb payload, a timestamp.
#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
pub struct StravaStats {
    #[conflict_key]
    pub stats_type: String,
    pub data: Json<serde_json::Value>,
    #[upsert(updated_at)]
    pub updated_at: (),
}

pub const CREATE_TABLE: &str = "CREATE TABLE strava_stats (
    stats_type text PRIMARY KEY,
    data jsonb NOT NULL,
    updated_at timestamptz NOT NULL) WITH (autovacuum_enabled = false)";

/// The derive's statement, written by hand; `main` asserts it equals
/// `StravaStats::UPSERT_SQL`, so "hand" and "derive" send byte-identical SQL.
pub const HAND_UPSERT_SQL: &str = r#"INSERT INTO "strava_stats" ("stats_type", "data", "updated_at") VALUES ($1, $2, now()) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data", "updated_at" = now() RETURNING (xmax = 0)"#;

const NAIVE_SELECT: &str = "SELECT 1 FROM strava_stats WHERE stats_type = $1";
const NAIVE_UPDATE: &str =
    "UPDATE strava_stats SET data = $2, updated_at = now() WHERE stats_type = $1";
const NAIVE_INSERT: &str =
    "INSERT INTO strava_stats (stats_type, data, updated_at) VALUES ($1, $2, now())";
const MERGE_SQL: &str = "MERGE INTO strava_stats AS t \
     USING (SELECT $1::text AS stats_type, $2::jsonb AS data) AS s \
     ON t.stats_type = s.stats_type \
     WHEN MATCHED THEN UPDATE SET data = s.data, updated_at = now() \
     WHEN NOT MATCHED THEN INSERT (stats_type, data, updated_at) VALUES (s.stats_type, s.data, now())";

/// How many times "naive + retry" runs the whole SELECT-then-write after a 23505.
pub const NAIVE_ATTEMPTS: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Strategy {
    Naive,
    NaiveRetry,
    Merge,
    Derive,
    Hand,
}

impl Strategy {
    pub const ALL: [Strategy; 5] = [
        Strategy::Naive,
        Strategy::NaiveRetry,
        Strategy::Merge,
        Strategy::Derive,
        Strategy::Hand,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Strategy::Naive => "naive SELECT then INSERT/UPDATE",
            Strategy::NaiveRetry => "naive + retry on 23505",
            Strategy::Merge => "MERGE (PostgreSQL 15)",
            Strategy::Derive => "derive upsert()",
            Strategy::Hand => "hand-written sqlx::query",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Strategy::Naive => "naive",
            Strategy::NaiveRetry => "naive_retry",
            Strategy::Merge => "merge",
            Strategy::Derive => "derive",
            Strategy::Hand => "hand",
        }
    }

    /// One operation: upsert `row` through `target`. The error is the SQLSTATE, or a
    /// short client-side reason.
    pub async fn run(self, target: &mut Target<'_>, row: &StravaStats) -> Result<(), String> {
        match self {
            Strategy::Naive => naive(target, row).await.map_err(|e| sqlstate(&e)),
            Strategy::NaiveRetry => {
                let mut attempt = 1;
                loop {
                    match naive(target, row).await {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            let code = sqlstate(&e);
                            if code != "23505" || attempt == NAIVE_ATTEMPTS {
                                return Err(code);
                            }
                            attempt += 1;
                        }
                    }
                }
            }
            Strategy::Merge => {
                let query = sqlx::query(MERGE_SQL).bind(&row.stats_type).bind(&row.data);
                match target {
                    Target::Pool(pool) => query.execute(*pool).await,
                    Target::Conn(conn) => query.execute(&mut **conn).await,
                }
                .map(drop)
                .map_err(|e| sqlstate(&e))
            }
            Strategy::Derive => {
                let outcome = match target {
                    Target::Pool(pool) => row.upsert(*pool).await,
                    Target::Conn(conn) => row.upsert(&mut **conn).await,
                };
                match outcome {
                    Ok(outcome) => {
                        std::hint::black_box(outcome);
                        Ok(())
                    }
                    Err(e) => Err(e.sqlstate().map_or_else(|| e.to_string(), str::to_owned)),
                }
            }
            Strategy::Hand => hand(target, row).await.map_err(|e| sqlstate(&e)),
        }
    }
}

/// Where an operation runs: through the pool (a checkout per operation), or on a
/// connection the worker holds for the whole run.
pub enum Target<'a> {
    Pool(&'a PgPool),
    Conn(&'a mut PgConnection),
}

/// The seed's "UNSAFE" pattern (the README's version: autocommit, no transaction around
/// the two statements). Through the pool it checks out one connection per operation.
async fn naive(target: &mut Target<'_>, row: &StravaStats) -> Result<(), sqlx::Error> {
    match target {
        Target::Pool(pool) => naive_on(&mut *pool.acquire().await?, row).await,
        Target::Conn(conn) => naive_on(conn, row).await,
    }
}

async fn naive_on(conn: &mut PgConnection, row: &StravaStats) -> Result<(), sqlx::Error> {
    let existing = sqlx::query(NAIVE_SELECT)
        .bind(&row.stats_type)
        .fetch_optional(&mut *conn)
        .await?;
    let sql = if existing.is_some() {
        NAIVE_UPDATE
    } else {
        NAIVE_INSERT
    };
    sqlx::query(sql)
        .bind(&row.stats_type)
        .bind(&row.data)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a careful user writes without the derive: the same statement, the same binds,
/// the same outcome read from `RETURNING (xmax = 0)`.
async fn hand(target: &mut Target<'_>, row: &StravaStats) -> Result<(), sqlx::Error> {
    let query = sqlx::query(HAND_UPSERT_SQL)
        .bind(&row.stats_type)
        .bind(&row.data);
    let answer = match target {
        Target::Pool(pool) => query.fetch_optional(*pool).await?,
        Target::Conn(conn) => query.fetch_optional(&mut **conn).await?,
    };
    let outcome = match answer {
        None => UpsertOutcome::Skipped,
        Some(answer) => {
            if answer.try_get::<bool, _>(0)? {
                UpsertOutcome::Inserted
            } else {
                UpsertOutcome::Updated
            }
        }
    };
    std::hint::black_box(outcome);
    Ok(())
}

/// The SQLSTATE of a database error, else the error's kind.
fn sqlstate(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .map_or_else(|| "db".to_owned(), std::borrow::Cow::into_owned),
        sqlx::Error::PoolTimedOut => "pool timeout".to_owned(),
        other => format!("client: {other}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// 1 worker, keys that already exist.
    Sequential,
    /// Many workers over a few hot keys that already exist.
    Concurrent,
    /// Many workers on fresh keys: every key is created during the run, by whichever
    /// worker gets there first, while the others update it.
    Race,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Sequential => "sequential",
            Kind::Concurrent => "concurrent",
            Kind::Race => "race",
        }
    }
}

/// How workers get their connection: the pool setting dimension.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// `&pool` per operation, sqlx's default `test_before_acquire(true)`: a ping on checkout.
    Ping,
    /// `&pool` per operation, `test_before_acquire(false)`.
    NoPing,
    /// Each worker checks out one connection before the run and keeps it (`&mut *conn`),
    /// as pgbench does: no pool traffic at all during the run.
    Held,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Ping, Mode::NoPing, Mode::Held];

    pub fn key(self) -> &'static str {
        match self {
            Mode::Ping => "pool_ping",
            Mode::NoPing => "pool_no_ping",
            Mode::Held => "held_connection",
        }
    }

    /// The pool's `test_before_acquire` in this mode.
    pub fn test_before_acquire(self) -> bool {
        self == Mode::Ping
    }

    pub fn describe(self) -> &'static str {
        match self {
            Mode::Ping => "`&pool` per operation, test_before_acquire=true (sqlx default)",
            Mode::NoPing => "`&pool` per operation, test_before_acquire=false",
            Mode::Held => "one connection held per worker for the whole run (`&mut *conn`)",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Mode::Ping => "pool, ping",
            Mode::NoPing => "pool, no ping",
            Mode::Held => "held conn",
        }
    }
}

/// A workload with its pre-built input rows.
pub struct Workload {
    pub kind: Kind,
    pub workers: usize,
    /// Inputs, built before any timing. Sequential/concurrent: the existing keys,
    /// inserted by [`Workload::reset`]. Race: fresh keys, consumed in groups of `workers`.
    pub rows: Arc<Vec<StravaStats>>,
}

/// A small jsonb document like the seed's stats payload.
fn payload(i: usize, version: usize) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "athlete_id": 12345,
        "count": i,
        "distance_km": 1234.5,
        "elapsed_s": 86_400 + i,
        "version": version,
    }))
}

impl Workload {
    pub fn new(kind: Kind, workers: usize, keys: usize) -> Workload {
        let prefix = if kind == Kind::Race { "fresh" } else { "stats" };
        let rows = (0..keys)
            .map(|i| StravaStats {
                stats_type: format!("{prefix}-{i}"),
                data: payload(i, 1),
                updated_at: (),
            })
            .collect();
        Workload {
            kind,
            workers,
            rows: Arc::new(rows),
        }
    }

    /// Puts the table in the workload's starting state: the existing keys (with an older
    /// payload) for sequential and concurrent, an empty table for the race.
    pub async fn reset(&self, admin: &PgPool) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("TRUNCATE strava_stats")
            .execute(admin)
            .await?;
        if self.kind != Kind::Race {
            let keys: Vec<&str> = self.rows.iter().map(|r| r.stats_type.as_str()).collect();
            sqlx::query(
                "INSERT INTO strava_stats (stats_type, data, updated_at) \
                 SELECT k, '{\"version\": 0}'::jsonb, now() FROM UNNEST($1::text[]) AS k",
            )
            .bind(keys)
            .execute(admin)
            .await?;
        }
        // Autovacuum is off for the table (it would wake up in some cells and not
        // others); every cell starts from a vacuumed, analyzed table instead.
        sqlx::raw_sql("VACUUM ANALYZE strava_stats")
            .execute(admin)
            .await?;
        Ok(())
    }
}

/// What one worker measured.
struct WorkerResult {
    histogram: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    finished: Instant,
}

/// One cell's measurement in one round.
pub struct Sample {
    pub ops: u64,
    pub elapsed: Duration,
    pub histogram: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
}

/// Latencies up to 60 s, in nanoseconds, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs `strategy` on `workload` with all its workers for `duration`.
pub async fn run_cell(
    pool: &PgPool,
    mode: Mode,
    strategy: Strategy,
    workload: &Workload,
    duration: Duration,
) -> Sample {
    let start = Instant::now() + Duration::from_millis(5);
    let deadline = start + duration;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(workload.workers);
    for worker in 0..workload.workers {
        let pool = pool.clone();
        let rows = Arc::clone(&workload.rows);
        let next = Arc::clone(&next);
        let (kind, group) = (workload.kind, workload.workers);
        tasks.push(tokio::spawn(async move {
            let mut result = WorkerResult {
                histogram: histogram(),
                ok: 0,
                errors: BTreeMap::new(),
                finished: start,
            };
            let mut held = if mode == Mode::Held {
                Some(pool.acquire().await.expect("a connection for the worker"))
            } else {
                None
            };
            let mut target = match &mut held {
                Some(conn) => Target::Conn(conn),
                None => Target::Pool(&pool),
            };
            tokio::time::sleep_until(start.into()).await;
            let mut op = worker;
            loop {
                let began = Instant::now();
                if began >= deadline {
                    break;
                }
                let index = match kind {
                    Kind::Sequential | Kind::Concurrent => op % rows.len(),
                    // Consecutive operations share a fresh key: `group` of them (one per
                    // worker, in practice) arrive at the same new key at about the same time.
                    Kind::Race => (next.fetch_add(1, Ordering::Relaxed) / group) % rows.len(),
                };
                match strategy.run(&mut target, &rows[index]).await {
                    Ok(()) => {
                        let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        result.histogram.saturating_record(nanos);
                        result.ok += 1;
                    }
                    Err(code) => *result.errors.entry(code).or_default() += 1,
                }
                op += 1;
            }
            result.finished = Instant::now();
            drop(held);
            result
        }));
    }
    let mut sample = Sample {
        ops: 0,
        elapsed: Duration::ZERO,
        histogram: histogram(),
        errors: BTreeMap::new(),
    };
    for task in tasks {
        let result = task.await.expect("worker panicked");
        sample.ops += result.ok;
        sample.elapsed = sample.elapsed.max(result.finished.duration_since(start));
        sample
            .histogram
            .add(&result.histogram)
            .expect("same histogram bounds");
        for (code, n) in result.errors {
            *sample.errors.entry(code).or_default() += n;
        }
    }
    sample
}
