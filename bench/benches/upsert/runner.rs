//! Running one cell: opening its pool (and the counting proxy), its workers with their
//! histograms, the merged [`Sample`], and the correctness check of the table afterwards.

use std::collections::BTreeMap;
use std::net::ToSocketAddrs as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgPool, postgres::PgPoolOptions, postgres::PgSslMode};
use hdrhistogram::Histogram;

use crate::fixtures::{Inputs, Kind, Workload};
use crate::proxy;
use crate::strategies::{Strategy, Via};

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

/// A pool of `size` connections, all opened up front, with `test_before_acquire` = `ping`.
pub async fn open_pool(
    options: &sqlx::postgres::PgConnectOptions,
    size: usize,
    ping: bool,
) -> Result<PgPool, sqlx::Error> {
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .test_before_acquire(ping)
        .connect_with(options.clone())
        .await
}

/// Starts the counting proxy in front of the server; returns its counters and connect
/// options that go through it.
pub async fn start_proxy(
    options: &sqlx::postgres::PgConnectOptions,
) -> Result<(Arc<proxy::Counts>, sqlx::postgres::PgConnectOptions), Box<dyn std::error::Error>> {
    let upstream = (options.get_host(), options.get_port())
        .to_socket_addrs()?
        .next()
        .ok_or("the server's host does not resolve")?;
    let (port, counts) = proxy::start(upstream).await?;
    let through = options
        .clone()
        .host("127.0.0.1")
        .port(port)
        .ssl_mode(PgSslMode::Disable);
    Ok((counts, through))
}

impl Workload {
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
    via: &mut Via<'_>,
    inputs: &Inputs,
    index: usize,
) -> Result<bool, String> {
    match inputs {
        Inputs::Stats(rows) => strategy.run(via, &rows[index]).await.map(|()| false),
        Inputs::Counter(rows) => strategy.run_counter(via, &rows[index]).await,
        Inputs::Version(rows) => strategy.run_version(via, &rows[index]).await,
    }
}

/// How long a cell runs: for a time, or until every worker made a fixed count of calls.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    Time(Duration),
    /// Calls per worker (successful or not); the run takes as long as it takes.
    Calls(u64),
}

impl From<Duration> for Budget {
    fn from(duration: Duration) -> Self {
        Budget::Time(duration)
    }
}

/// Runs `strategy` on `workload` with all its workers for `budget`.
pub async fn run_cell(
    pool: &PgPool,
    mode: Mode,
    strategy: Strategy,
    workload: &Workload,
    budget: impl Into<Budget>,
) -> Sample {
    let start = Instant::now() + Duration::from_millis(5);
    let (deadline, calls) = match budget.into() {
        Budget::Time(duration) => (Some(start + duration), u64::MAX),
        Budget::Calls(calls) => (None, calls),
    };
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
            let mut via = match &mut held {
                Some(conn) => Via::Conn(conn),
                None => Via::Pool(&pool),
            };
            tokio::time::sleep_until(start.into()).await;
            for op in (worker..).take(usize::try_from(calls).unwrap_or(usize::MAX)) {
                let began = Instant::now();
                if deadline.is_some_and(|deadline| began >= deadline) {
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
                let outcome = one_op(strategy, &mut via, &inputs, index).await;
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
