//! Fixtures of the single-row workloads: the tables, the derived structs, the hand-written
//! SQL of every strategy, and each workload's inputs (built before any timing) and
//! starting state.

use std::sync::Arc;

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{self, PgPool, types::Json};

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

/// The derive's statement, written by hand; [`assert_hand_sql`] (run by `main`) asserts it
/// equals `StravaStats::UPSERT_SQL`, so "hand" and "derive" send byte-identical SQL.
pub const HAND_UPSERT_SQL: &str = r#"INSERT INTO "strava_stats" ("stats_type", "data", "updated_at") VALUES ($1, $2, now()) ON CONFLICT ("stats_type") DO UPDATE SET "data" = EXCLUDED."data", "updated_at" = now() RETURNING (xmax = 0)"#;

pub const NAIVE_SELECT: &str = "SELECT 1 FROM strava_stats WHERE stats_type = $1";
pub const NAIVE_UPDATE: &str =
    "UPDATE strava_stats SET data = $2, updated_at = now() WHERE stats_type = $1";
pub const NAIVE_INSERT: &str =
    "INSERT INTO strava_stats (stats_type, data, updated_at) VALUES ($1, $2, now())";
pub const MERGE_SQL: &str = "MERGE INTO strava_stats AS t \
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

/// `Counter::UPSERT_SQL`, written by hand (asserted equal in [`assert_hand_sql`]).
pub const HAND_COUNTER_SQL: &str = r#"INSERT INTO "counter" ("name", "n") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "n" = "counter"."n" + EXCLUDED."n" RETURNING (xmax = 0)"#;

/// `EntityState::UPSERT_SQL`, written by hand (asserted equal in [`assert_hand_sql`]).
pub const HAND_VERSION_SQL: &str = r#"INSERT INTO "entity_state" ("id", "value", "version") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "value" = EXCLUDED."value", "version" = EXCLUDED."version" WHERE EXCLUDED."version" > "entity_state"."version" RETURNING (xmax = 0)"#;

pub const NAIVE_COUNTER_SELECT: &str = "SELECT n FROM counter WHERE name = $1";
pub const NAIVE_COUNTER_UPDATE: &str = "UPDATE counter SET n = $2 WHERE name = $1";
pub const NAIVE_COUNTER_INSERT: &str = "INSERT INTO counter (name, n) VALUES ($1, $2)";
pub const NAIVE_VERSION_SELECT: &str = "SELECT version FROM entity_state WHERE id = $1";
pub const NAIVE_VERSION_UPDATE: &str =
    "UPDATE entity_state SET value = $2, version = $3 WHERE id = $1";
pub const NAIVE_VERSION_INSERT: &str =
    "INSERT INTO entity_state (id, value, version) VALUES ($1, $2, $3)";

/// Creates the single-row tables: `strava_stats`, then `counter` and `entity_state`.
pub async fn create_tables(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(CREATE_TABLE).execute(pool).await?;
    sqlx::raw_sql(CREATE_CHECK_TABLES).execute(pool).await?;
    Ok(())
}

/// Asserts that the hand-written statements are the derive's, byte for byte.
pub fn assert_hand_sql() {
    assert_eq!(
        HAND_UPSERT_SQL,
        StravaStats::UPSERT_SQL,
        "the hand-written statement must be the derive's, byte for byte"
    );
    assert_eq!(
        HAND_COUNTER_SQL,
        Counter::UPSERT_SQL,
        "the hand-written counter statement must be the derive's, byte for byte"
    );
    assert_eq!(
        HAND_VERSION_SQL,
        EntityState::UPSERT_SQL,
        "the hand-written version statement must be the derive's, byte for byte"
    );
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

    /// The correctness workloads, checked after every cell.
    pub fn checked(self) -> bool {
        matches!(self, Kind::Counter | Kind::Version)
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
    pub fn len(&self) -> usize {
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
}
