//! Single-row upserts: the seed's `strava_stats` table, five strategies, three workloads;
//! and two correctness workloads (a hot counter, versioned events) with three strategies.

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

/// A hot counter: `#[upsert(add)]` adds the incoming `n` to the stored one.
#[derive(AtomicUpsert)]
#[upsert(table = "counter")]
pub struct Counter {
    #[conflict_key]
    pub name: String,
    #[upsert(add)]
    pub n: i64,
}

/// The latest state of an entity fed by events that may arrive out of order:
/// `#[upsert(version)]` writes only an event newer than the stored one.
#[derive(AtomicUpsert)]
#[upsert(table = "entity_state")]
pub struct EntityState {
    #[conflict_key]
    pub id: String,
    pub value: i64,
    #[upsert(version)]
    pub version: i64,
}

pub const CREATE_CHECK_TABLES: &str = "CREATE TABLE counter (
    name text PRIMARY KEY,
    n int8 NOT NULL) WITH (autovacuum_enabled = false);
CREATE TABLE entity_state (
    id text PRIMARY KEY,
    value int8 NOT NULL,
    version int8 NOT NULL) WITH (autovacuum_enabled = false)";

/// `Counter::UPSERT_SQL`, written by hand (asserted equal in `main`).
pub const HAND_COUNTER_SQL: &str = r#"INSERT INTO "counter" ("name", "n") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "n" = "counter"."n" + EXCLUDED."n" RETURNING (xmax = 0)"#;

/// `EntityState::UPSERT_SQL`, written by hand (asserted equal in `main`).
pub const HAND_VERSION_SQL: &str = r#"INSERT INTO "entity_state" ("id", "value", "version") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "value" = EXCLUDED."value", "version" = EXCLUDED."version" WHERE EXCLUDED."version" > "entity_state"."version" RETURNING (xmax = 0)"#;

const NAIVE_COUNTER_SELECT: &str = "SELECT n FROM counter WHERE name = $1";
const NAIVE_COUNTER_UPDATE: &str = "UPDATE counter SET n = $2 WHERE name = $1";
const NAIVE_COUNTER_INSERT: &str = "INSERT INTO counter (name, n) VALUES ($1, $2)";
const NAIVE_VERSION_SELECT: &str = "SELECT version FROM entity_state WHERE id = $1";
const NAIVE_VERSION_UPDATE: &str = "UPDATE entity_state SET value = $2, version = $3 WHERE id = $1";
const NAIVE_VERSION_INSERT: &str =
    "INSERT INTO entity_state (id, value, version) VALUES ($1, $2, $3)";

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

    /// The label in a workload's table: the naive pattern and the derive differ by workload.
    pub fn label_for(self, kind: Kind) -> &'static str {
        match (kind, self) {
            (Kind::Counter, Strategy::Naive) => "naive SELECT n, then UPDATE n = n+1 (or INSERT)",
            (Kind::Counter, Strategy::Derive) => "derive upsert(), #[upsert(add)]",
            (Kind::Version, Strategy::Naive) => {
                "naive SELECT version, then UPDATE if newer (or INSERT)"
            }
            (Kind::Version, Strategy::Derive) => "derive upsert(), #[upsert(version)]",
            _ => self.label(),
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

    /// One increment of a hot counter (naive, derive or hand only). `Ok(true)` when the
    /// row was not written (never, here).
    pub async fn run_counter(self, target: &mut Target<'_>, row: &Counter) -> Result<bool, String> {
        match self {
            Strategy::Derive => derive_outcome(match target {
                Target::Pool(pool) => row.upsert(*pool).await,
                Target::Conn(conn) => row.upsert(&mut **conn).await,
            }),
            Strategy::Hand => {
                let query = sqlx::query(HAND_COUNTER_SQL).bind(&row.name).bind(row.n);
                hand_outcome(match target {
                    Target::Pool(pool) => query.fetch_optional(*pool).await,
                    Target::Conn(conn) => query.fetch_optional(&mut **conn).await,
                })
            }
            _ => match target {
                Target::Pool(pool) => match pool.acquire().await {
                    Ok(mut conn) => naive_counter(&mut conn, row).await,
                    Err(e) => Err(e),
                },
                Target::Conn(conn) => naive_counter(conn, row).await,
            }
            .map_err(|e| sqlstate(&e)),
        }
    }

    /// One event for a versioned entity (naive, derive or hand only). `Ok(true)` when the
    /// event was found stale and not written.
    pub async fn run_version(
        self,
        target: &mut Target<'_>,
        row: &EntityState,
    ) -> Result<bool, String> {
        match self {
            Strategy::Derive => derive_outcome(match target {
                Target::Pool(pool) => row.upsert(*pool).await,
                Target::Conn(conn) => row.upsert(&mut **conn).await,
            }),
            Strategy::Hand => {
                let query = sqlx::query(HAND_VERSION_SQL)
                    .bind(&row.id)
                    .bind(row.value)
                    .bind(row.version);
                hand_outcome(match target {
                    Target::Pool(pool) => query.fetch_optional(*pool).await,
                    Target::Conn(conn) => query.fetch_optional(&mut **conn).await,
                })
            }
            _ => match target {
                Target::Pool(pool) => match pool.acquire().await {
                    Ok(mut conn) => naive_version(&mut conn, row).await,
                    Err(e) => Err(e),
                },
                Target::Conn(conn) => naive_version(conn, row).await,
            }
            .map_err(|e| sqlstate(&e)),
        }
    }
}

/// The derive's outcome: `Ok(true)` when the row was not written.
fn derive_outcome(outcome: Result<UpsertOutcome, atomic_upsert::Error>) -> Result<bool, String> {
    match outcome {
        Ok(outcome) => Ok(std::hint::black_box(outcome) == UpsertOutcome::Skipped),
        Err(e) => Err(e.sqlstate().map_or_else(|| e.to_string(), str::to_owned)),
    }
}

/// The hand-written query's outcome, decoded as the derive does: no row returned means
/// the guard held the row back (skipped); `Ok(true)` then.
fn hand_outcome(
    answer: Result<Option<sqlx::postgres::PgRow>, sqlx::Error>,
) -> Result<bool, String> {
    let outcome = match answer.map_err(|e| sqlstate(&e))? {
        None => UpsertOutcome::Skipped,
        Some(answer) => {
            if answer.try_get::<bool, _>(0).map_err(|e| sqlstate(&e))? {
                UpsertOutcome::Inserted
            } else {
                UpsertOutcome::Updated
            }
        }
    };
    Ok(std::hint::black_box(outcome) == UpsertOutcome::Skipped)
}

/// Read-modify-write in autocommit: two workers that read the same `n` both write `n + 1`,
/// and one increment is lost.
async fn naive_counter(conn: &mut PgConnection, row: &Counter) -> Result<bool, sqlx::Error> {
    let stored: Option<i64> = sqlx::query_scalar(NAIVE_COUNTER_SELECT)
        .bind(&row.name)
        .fetch_optional(&mut *conn)
        .await?;
    let (sql, n) = match stored {
        Some(n) => (NAIVE_COUNTER_UPDATE, n + row.n),
        None => (NAIVE_COUNTER_INSERT, row.n),
    };
    sqlx::query(sql)
        .bind(&row.name)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    Ok(false)
}

/// Check-then-write in autocommit: a newer event written between this one's `SELECT` and
/// its `UPDATE` is overwritten by this older one.
async fn naive_version(conn: &mut PgConnection, row: &EntityState) -> Result<bool, sqlx::Error> {
    let stored: Option<i64> = sqlx::query_scalar(NAIVE_VERSION_SELECT)
        .bind(&row.id)
        .fetch_optional(&mut *conn)
        .await?;
    let sql = match stored {
        Some(version) if version >= row.version => return Ok(true),
        Some(_) => NAIVE_VERSION_UPDATE,
        None => NAIVE_VERSION_INSERT,
    };
    sqlx::query(sql)
        .bind(&row.id)
        .bind(row.value)
        .bind(row.version)
        .execute(&mut *conn)
        .await?;
    Ok(false)
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
    /// Many workers adding 1 to a few hot counters that already exist; checked for lost
    /// increments after every cell.
    Counter,
    /// Many workers sending versioned events, partly out of order, for a few hot keys
    /// that already exist; checked for stale overwrites after every cell.
    Version,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Sequential => "sequential",
            Kind::Concurrent => "concurrent",
            Kind::Race => "race",
            Kind::Counter => "counter",
            Kind::Version => "version",
        }
    }

    /// The strategies this workload compares.
    pub fn strategies(self) -> &'static [Strategy] {
        match self {
            Kind::Sequential | Kind::Concurrent | Kind::Race => &Strategy::ALL,
            Kind::Counter | Kind::Version => &[Strategy::Naive, Strategy::Derive, Strategy::Hand],
        }
    }

    /// The correctness workloads, checked after every cell.
    pub fn checked(self) -> bool {
        matches!(self, Kind::Counter | Kind::Version)
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

/// A workload's pre-built inputs.
#[derive(Clone)]
pub enum Inputs {
    /// Sequential/concurrent: the existing keys, inserted by [`Workload::reset`]. Race:
    /// fresh keys, consumed in groups of `workers`.
    Stats(Arc<Vec<StravaStats>>),
    /// One `+1` per hot key.
    Counter(Arc<Vec<Counter>>),
    /// The event stream, consumed in order by all workers together: event `i` is for key
    /// `i % keys`.
    Version(Arc<Vec<EntityState>>),
}

impl Inputs {
    fn len(&self) -> usize {
        match self {
            Inputs::Stats(rows) => rows.len(),
            Inputs::Counter(rows) => rows.len(),
            Inputs::Version(rows) => rows.len(),
        }
    }
}

/// A workload with its pre-built inputs.
pub struct Workload {
    pub kind: Kind,
    pub workers: usize,
    /// Distinct keys.
    pub keys: usize,
    /// Inputs, built before any timing.
    pub inputs: Inputs,
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

/// Events per key in the version workload's stream (more than any cell consumes here).
pub const EVENTS_PER_KEY: usize = 16_384;
/// Out-of-order window of the version workload: each key's versions `1..` are shuffled
/// within consecutive blocks of this many events.
pub const VERSION_WINDOW: usize = 4;

/// splitmix64: a fixed, dependency-free pseudo-random sequence for the event stream.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Each key's versions `1..=EVENTS_PER_KEY`, shuffled within windows of
/// [`VERSION_WINDOW`], interleaved over the keys (event `i` is for key `i % keys`).
fn version_events(keys: usize) -> Vec<EntityState> {
    let mut state = 0x5eed;
    let per_key: Vec<Vec<i64>> = (0..keys)
        .map(|_| {
            let mut versions: Vec<i64> =
                (1..=i64::try_from(EVENTS_PER_KEY).unwrap_or(i64::MAX)).collect();
            for window in versions.chunks_mut(VERSION_WINDOW) {
                // Fisher-Yates within the window.
                for j in (1..window.len()).rev() {
                    let r = usize::try_from(splitmix(&mut state) % (j as u64 + 1)).unwrap_or(0);
                    window.swap(j, r);
                }
            }
            versions
        })
        .collect();
    (0..EVENTS_PER_KEY * keys)
        .map(|i| {
            let version = per_key[i % keys][i / keys];
            EntityState {
                id: format!("entity-{}", i % keys),
                value: version * 10,
                version,
            }
        })
        .collect()
}

impl Workload {
    pub fn new(kind: Kind, workers: usize, keys: usize) -> Workload {
        let inputs = match kind {
            Kind::Sequential | Kind::Concurrent | Kind::Race => {
                let prefix = if kind == Kind::Race { "fresh" } else { "stats" };
                Inputs::Stats(Arc::new(
                    (0..keys)
                        .map(|i| StravaStats {
                            stats_type: format!("{prefix}-{i}"),
                            data: payload(i, 1),
                            updated_at: (),
                        })
                        .collect(),
                ))
            }
            Kind::Counter => Inputs::Counter(Arc::new(
                (0..keys)
                    .map(|i| Counter {
                        name: format!("counter-{i}"),
                        n: 1,
                    })
                    .collect(),
            )),
            Kind::Version => Inputs::Version(Arc::new(version_events(keys))),
        };
        Workload {
            kind,
            workers,
            keys,
            inputs,
        }
    }

    /// Puts the table in the workload's starting state: the existing keys (with an older
    /// payload) for sequential and concurrent, an empty table for the race, the hot keys
    /// at `n = 0` / `version = 0` for counter and version.
    pub async fn reset(&self, admin: &PgPool) -> Result<(), sqlx::Error> {
        let (truncate, insert, vacuum, keys): (
            &'static str,
            &'static str,
            &'static str,
            Vec<&str>,
        ) = match &self.inputs {
            Inputs::Stats(rows) => (
                "TRUNCATE strava_stats",
                "INSERT INTO strava_stats (stats_type, data, updated_at) \
                 SELECT k, '{\"version\": 0}'::jsonb, now() FROM UNNEST($1::text[]) AS k",
                "VACUUM ANALYZE strava_stats",
                if self.kind == Kind::Race {
                    Vec::new()
                } else {
                    rows.iter().map(|r| r.stats_type.as_str()).collect()
                },
            ),
            Inputs::Counter(rows) => (
                "TRUNCATE counter",
                "INSERT INTO counter (name, n) SELECT k, 0 FROM UNNEST($1::text[]) AS k",
                "VACUUM ANALYZE counter",
                rows.iter().map(|r| r.name.as_str()).collect(),
            ),
            Inputs::Version(rows) => (
                "TRUNCATE entity_state",
                "INSERT INTO entity_state (id, value, version) \
                 SELECT k, 0, 0 FROM UNNEST($1::text[]) AS k",
                "VACUUM ANALYZE entity_state",
                rows[..self.keys].iter().map(|r| r.id.as_str()).collect(),
            ),
        };
        sqlx::raw_sql(truncate).execute(admin).await?;
        if !keys.is_empty() {
            sqlx::query(insert).bind(keys).execute(admin).await?;
        }
        // Autovacuum is off for the table (it would wake up in some cells and not
        // others); every cell starts from a vacuumed, analyzed table instead.
        sqlx::raw_sql(vacuum).execute(admin).await?;
        Ok(())
    }

    /// After a cell of a checked workload: the table against what the workers were told
    /// succeeded.
    pub async fn check(
        &self,
        admin: &PgPool,
        sample: &Sample,
    ) -> Result<Option<Check>, sqlx::Error> {
        match &self.inputs {
            Inputs::Stats(_) => Ok(None),
            Inputs::Counter(_) => {
                let stored: i64 =
                    sqlx::query_scalar("SELECT COALESCE(SUM(n), 0)::int8 FROM counter")
                        .fetch_one(admin)
                        .await?;
                Ok(Some(Check::Counter {
                    increments: sample.ops,
                    stored,
                }))
            }
            Inputs::Version(rows) => {
                let stored: Vec<(String, i64)> =
                    sqlx::query_as("SELECT id, version FROM entity_state")
                        .fetch_all(admin)
                        .await?;
                let mut check = Check::Version {
                    keys: 0,
                    below_max: 0,
                    behind: 0,
                };
                if let Check::Version {
                    keys,
                    below_max,
                    behind,
                } = &mut check
                {
                    for (k, &max) in sample.max_versions.iter().enumerate() {
                        if max == 0 {
                            continue; // no successful event for this key
                        }
                        let id = &rows[k].id;
                        let version = stored
                            .iter()
                            .find(|(stored_id, _)| stored_id == id)
                            .map_or(0, |(_, v)| *v);
                        *keys += 1;
                        if version < max {
                            *below_max += 1;
                            *behind += u64::try_from(max - version).unwrap_or(0);
                        }
                    }
                }
                Ok(Some(check))
            }
        }
    }
}

/// The correctness check of one cell of a checked workload.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// Successful increments (each `+1`) and the sum stored afterwards (from 0).
    Counter { increments: u64, stored: i64 },
    /// Keys with at least one successful event; of those, keys whose stored version ended
    /// below the highest version successfully sent for them, and by how many versions in all.
    Version {
        keys: u64,
        below_max: u64,
        behind: u64,
    },
}

/// What one worker measured.
struct WorkerResult {
    histogram: Histogram<u64>,
    ok: u64,
    skipped: u64,
    errors: BTreeMap<String, u64>,
    max_versions: Vec<i64>,
    finished: Instant,
}

/// One cell's measurement in one round.
pub struct Sample {
    pub ops: u64,
    /// Successful operations that did not write (a stale event).
    pub skipped: u64,
    pub elapsed: Duration,
    pub histogram: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// Version workload: per key, the highest version of a successful operation.
    pub max_versions: Vec<i64>,
}

/// Latencies up to 60 s, in nanoseconds, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// One operation on input `index`: `Ok(true)` when it wrote nothing (a stale event).
async fn one_op(
    strategy: Strategy,
    target: &mut Target<'_>,
    inputs: &Inputs,
    index: usize,
) -> Result<bool, String> {
    match inputs {
        Inputs::Stats(rows) => strategy.run(target, &rows[index]).await.map(|()| false),
        Inputs::Counter(rows) => strategy.run_counter(target, &rows[index]).await,
        Inputs::Version(rows) => strategy.run_version(target, &rows[index]).await,
    }
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
        let inputs = workload.inputs.clone();
        let next = Arc::clone(&next);
        let (kind, group, keys) = (workload.kind, workload.workers, workload.keys);
        tasks.push(tokio::spawn(async move {
            let mut result = WorkerResult {
                histogram: histogram(),
                ok: 0,
                skipped: 0,
                errors: BTreeMap::new(),
                max_versions: vec![0; if kind == Kind::Version { keys } else { 0 }],
                finished: start,
            };
            let len = inputs.len();
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
                    Kind::Sequential | Kind::Concurrent | Kind::Counter => op % len,
                    // Consecutive operations share a fresh key: `group` of them (one per
                    // worker, in practice) arrive at the same new key at about the same time.
                    Kind::Race => (next.fetch_add(1, Ordering::Relaxed) / group) % len,
                    // The event stream, in order, shared by all workers.
                    Kind::Version => next.fetch_add(1, Ordering::Relaxed) % len,
                };
                let outcome = one_op(strategy, &mut target, &inputs, index).await;
                match outcome {
                    Ok(skipped) => {
                        let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        result.histogram.saturating_record(nanos);
                        result.ok += 1;
                        result.skipped += u64::from(skipped);
                        if let Inputs::Version(rows) = &inputs {
                            let max = &mut result.max_versions[index % keys];
                            *max = (*max).max(rows[index].version);
                        }
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
        skipped: 0,
        elapsed: Duration::ZERO,
        histogram: histogram(),
        errors: BTreeMap::new(),
        max_versions: vec![
            0;
            if workload.kind == Kind::Version {
                workload.keys
            } else {
                0
            }
        ],
    };
    for task in tasks {
        let result = task.await.expect("worker panicked");
        sample.ops += result.ok;
        sample.skipped += result.skipped;
        sample.elapsed = sample.elapsed.max(result.finished.duration_since(start));
        sample
            .histogram
            .add(&result.histogram)
            .expect("same histogram bounds");
        for (code, n) in result.errors {
            *sample.errors.entry(code).or_default() += n;
        }
        for (max, worker_max) in sample.max_versions.iter_mut().zip(result.max_versions) {
            *max = (*max).max(worker_max);
        }
    }
    sample
}
