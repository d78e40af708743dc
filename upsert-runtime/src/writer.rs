//! The coalescing writer: concurrent single-row calls go out as one batch statement.
//!
//! Callers send their row over a bounded queue and wait on a oneshot for that row's own
//! outcome. One task drains the queue: it takes what is waiting (up to `max_batch` rows,
//! waiting at most `max_delay` after the first for more), runs
//! [`upsert_many_outcomes`](crate::AtomicUpsert::upsert_many_outcomes) on the batch (one
//! statement, one commit), and answers every call. Batches run one after another, so calls
//! apply in arrival order, exactly as `upsert` called in that order would.
//!
//! A failed batch is split: a row the server names ([`Error::Row`]) fails alone and the
//! rows around it are sent again in order; any other rejection of the data is bisected down
//! to the rows at fault. A failure of the batch as a whole (the connection broke, a
//! transient conflict) fails exactly that batch's calls, each with
//! [`Error::Coalesced`], which says whether the write may have been applied.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPool;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::error::Error;
use crate::outcome::UpsertOutcome;
use crate::postgres::generated::Generated;

/// How a [`Writer`] batches.
///
/// ```
/// use std::time::Duration;
/// let config = atomic_upsert::WriterConfig {
///     max_delay: Duration::from_millis(1),
///     ..atomic_upsert::WriterConfig::default()
/// };
/// assert_eq!(config.max_batch, 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// How long a batch waits for more rows after its first one. Zero (the default) sends
    /// what is queued once the callers just answered have had a turn to queue again; under
    /// load batches grow while the previous one runs. tokio's timer has a resolution of a
    /// millisecond, so a nonzero delay below that waits about a millisecond.
    pub max_delay: Duration,
    /// The most rows one batch statement takes.
    pub max_batch: usize,
    /// The most calls waiting in the queue; a caller beyond it waits for room
    /// (backpressure), so memory stays bounded.
    pub queue: usize,
    /// The longest the writer keeps one pooled connection across batches. It uses one
    /// connection at a time, checked out for a batch and kept between batches while calls
    /// keep coming (no checkout per batch); once it has held it this long, it gives it back
    /// after the batch in flight, and waits its turn in the pool for the next one, so
    /// that other users of a small pool make progress under sustained writer load. It also
    /// gives it back after 250 ms without calls.
    pub max_hold: Duration,
}

impl Default for WriterConfig {
    /// `max_delay` 0 (batches form while the previous one runs), `max_batch` 1024,
    /// `queue` 8192, `max_hold` 100 ms.
    fn default() -> Self {
        WriterConfig {
            max_delay: Duration::ZERO,
            max_batch: 1024,
            queue: 8192,
            max_hold: Duration::from_millis(100),
        }
    }
}

/// One call in the queue.
struct Job<T> {
    row: T,
    queued: Instant,
    reply: oneshot::Sender<Result<UpsertOutcome, Error>>,
}

/// What every handle of one writer shares.
struct Shared<T> {
    queue: mpsc::Sender<Job<T>>,
    /// Told by `shutdown`; the task holds only this (not the sender), so dropping every
    /// handle also ends the task, after it wrote what was queued.
    closing: Arc<Notify>,
    closed: std::sync::atomic::AtomicBool,
    /// `true` once the task has written its last batch (dropped with a panicking task).
    finished: watch::Receiver<bool>,
    stats: Arc<Counters>,
}

/// What the task counts, for [`Writer::stats`] and [`Writer::take_histograms`].
#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    rows: AtomicU64,
    busy_micros: AtomicU64,
    /// Taken (and reset) by [`Writer::take_histograms`]; one lock per batch.
    histograms: Mutex<WriterHistograms>,
}

/// The distributions of a [`Writer`]'s batches since the last
/// [`take_histograms`](Writer::take_histograms): how many calls each batch held and how
/// long its statement took. Each take starts a new window.
///
/// ```
/// let histograms = atomic_upsert::WriterHistograms::default();
/// assert_eq!(histograms.batch_rows.len(), 0);
/// assert_eq!(histograms.batch_micros.value_at_quantile(0.99), 0);
/// ```
#[derive(Debug, Clone)]
pub struct WriterHistograms {
    /// Calls per batch (1 to `max_batch`).
    pub batch_rows: hdrhistogram::Histogram<u64>,
    /// Each batch's time from sending it to its commit, in microseconds (3 significant
    /// digits, up to an hour).
    pub batch_micros: hdrhistogram::Histogram<u64>,
}

impl Default for WriterHistograms {
    fn default() -> Self {
        // `new_with_bounds` fails only on invalid bounds; these are valid.
        let histogram = |high| {
            hdrhistogram::Histogram::new_with_bounds(1, high, 3)
                .unwrap_or_else(|error| unreachable!("valid histogram bounds: {error}"))
        };
        WriterHistograms {
            batch_rows: histogram(1 << 20),
            batch_micros: histogram(3_600_000_000),
        }
    }
}

impl WriterHistograms {
    /// Counts one batch (values past the bounds are clamped to them).
    fn record(&mut self, rows: usize, took: Duration) {
        self.batch_rows
            .saturating_record(u64::try_from(rows).unwrap_or(u64::MAX));
        self.batch_micros
            .saturating_record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }
}

/// How much a [`Writer`] has written so far: batch statements, the calls they held, and
/// the time spent writing. A snapshot: subtract an earlier one for a window
/// ([`since`](WriterStats::since)); [`Writer::take_histograms`] gives the distributions.
///
/// ```
/// use std::time::Duration;
/// let stats = atomic_upsert::WriterStats { batches: 4, rows: 1000, busy: Duration::from_millis(2) };
/// assert_eq!(stats.rows_per_batch(), 250.0);
/// assert_eq!(stats.mean_batch_time(), Duration::from_micros(500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Batch statements sent (a failed batch's retries included).
    pub batches: u64,
    /// Calls answered.
    pub rows: u64,
    /// Time spent sending batches and waiting for them to commit.
    pub busy: Duration,
}

impl WriterStats {
    /// What was written between `earlier` (a snapshot of the same writer) and this one: a
    /// window, for rates and means over the last minute rather than the writer's life.
    ///
    /// ```
    /// use std::time::Duration;
    /// use atomic_upsert::WriterStats;
    /// let minute_ago = WriterStats { batches: 10, rows: 100, busy: Duration::from_millis(5) };
    /// let now = WriterStats { batches: 14, rows: 900, busy: Duration::from_millis(9) };
    /// let window = now.since(&minute_ago);
    /// assert_eq!(window.rows_per_batch(), 200.0);
    /// assert_eq!(window.mean_batch_time(), Duration::from_millis(1));
    /// ```
    #[must_use]
    pub fn since(&self, earlier: &WriterStats) -> WriterStats {
        WriterStats {
            batches: self.batches.saturating_sub(earlier.batches),
            rows: self.rows.saturating_sub(earlier.rows),
            busy: self.busy.saturating_sub(earlier.busy),
        }
    }

    /// The mean number of calls per batch (0 before the first batch).
    ///
    /// ```
    /// assert_eq!(atomic_upsert::WriterStats::default().rows_per_batch(), 0.0);
    /// ```
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn rows_per_batch(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.rows as f64 / self.batches as f64
        }
    }

    /// The mean time of a batch, from sending it to its commit (zero before the first).
    ///
    /// ```
    /// assert!(atomic_upsert::WriterStats::default().mean_batch_time().is_zero());
    /// ```
    #[must_use]
    pub fn mean_batch_time(&self) -> Duration {
        match u32::try_from(self.batches) {
            Ok(0) => Duration::ZERO,
            Ok(batches) => self.busy / batches,
            Err(_) => self.busy / u32::MAX,
        }
    }
}

/// A cloneable handle that coalesces concurrent [`upsert`](Writer::upsert) calls of `T`
/// into batch statements. Build it with [`AtomicUpsert::writer`](crate::AtomicUpsert::writer).
///
/// Each call returns that row's own [`UpsertOutcome`] (or its own error) once the batch
/// holding it has committed. Calls apply in arrival order, as `upsert` called in that order
/// would (a key's rows in one batch fold one by one; `add` neither loses nor doubles an
/// increment). Call [`shutdown`](Writer::shutdown) to flush what is queued before exit.
///
/// The writer takes one connection from the pool at a time. It keeps it between batches
/// while calls keep coming, for at most [`WriterConfig::max_hold`] (100 ms by default), then
/// gives it back after the batch in flight and queues for it again like any other user of
/// the pool; after 250 ms without calls it gives it back too. So on a pool of `n`
/// connections, other callers always have `n - 1`, and take turns with the writer for the
/// last one.
///
/// ```no_run
/// use atomic_upsert::{AtomicUpsert, UpsertOutcome, WriterConfig};
///
/// #[derive(AtomicUpsert)]
/// struct LastSeen { #[conflict_key] user_id: i64, seen_at: i64 }
///
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// let writer = LastSeen::writer(&pool, WriterConfig::default());
/// let handle = writer.clone(); // one per request handler
/// let outcome = handle.upsert(LastSeen { user_id: 7, seen_at: 1_700_000_000 }).await?;
/// assert!(matches!(outcome, UpsertOutcome::Inserted | UpsertOutcome::Updated));
/// writer.shutdown().await; // flushes the queue
/// # Ok(()) }
/// ```
pub struct Writer<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Writer<T> {
    fn clone(&self) -> Self {
        Writer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> std::fmt::Debug for Writer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field(
                "queued",
                &(self.shared.queue.max_capacity() - self.shared.queue.capacity()),
            )
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: Generated + 'static> Writer<T> {
    /// A writer on `pool`; its task runs on the current tokio runtime.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Writer, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) {
    /// let writer: Writer<Tag> = Writer::new(pool, WriterConfig::default());
    /// # }
    /// ```
    #[must_use]
    pub fn new(pool: PgPool, config: WriterConfig) -> Self {
        // Bounded, so that no value can overflow the task's arithmetic or allocation.
        let config = WriterConfig {
            max_batch: config.max_batch.clamp(1, 1 << 16),
            queue: config.queue.clamp(1, 1 << 24),
            max_delay: config.max_delay.min(Duration::from_hours(1)),
            max_hold: config.max_hold.min(Duration::from_hours(1)),
        };
        let (queue, jobs) = mpsc::channel(config.queue);
        let closing = Arc::new(Notify::new());
        let stats = Arc::new(Counters::default());
        let (done, finished) = watch::channel(false);
        let shared = Arc::new(Shared {
            queue,
            closing: Arc::clone(&closing),
            closed: std::sync::atomic::AtomicBool::new(false),
            finished,
            stats: Arc::clone(&stats),
        });
        tokio::spawn(async move {
            drain(
                Task {
                    pool,
                    conn: None,
                    held_since: Instant::now(),
                    watches: None,
                    config,
                    closing,
                    stats,
                },
                jobs,
            )
            .await;
            let _ = done.send(true);
        });
        Writer { shared }
    }

    /// Queues `row` and waits for its batch to commit: the row's own outcome, or its own
    /// error. Waits for room when the queue is full. After [`shutdown`](Writer::shutdown),
    /// fails with [`Error::WriterClosed`]. Dropping the future after the row was queued
    /// does not take it back: the row is written with its batch.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let writer = Tag::writer(&pool, WriterConfig::default());
    /// writer.upsert(Tag { name: "rust".into(), color: "orange".into() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert(&self, row: T) -> Result<UpsertOutcome, Error> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::WriterClosed);
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row,
            queued: Instant::now(),
            reply,
        };
        self.shared
            .queue
            .send(job)
            .await
            .map_err(|_| Error::WriterClosed)?;
        // The reply is dropped unanswered only when the task stopped mid-batch.
        answer.await.map_err(|_| Error::WriterFailed)?
    }

    /// Batches and calls written so far (for metrics: `rows_per_batch` is the coalescing).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) {
    /// let writer = Tag::writer(&pool, WriterConfig::default());
    /// println!("{:.1} calls per statement", writer.stats().rows_per_batch());
    /// # }
    /// ```
    #[must_use]
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.shared.stats.batches.load(Ordering::Relaxed),
            rows: self.shared.stats.rows.load(Ordering::Relaxed),
            busy: Duration::from_micros(self.shared.stats.busy_micros.load(Ordering::Relaxed)),
        }
    }

    /// The distributions of the batches written since the last call (or since the writer
    /// started), and a fresh window from now: calls per batch and statement time, as
    /// `hdrhistogram` histograms (quantiles, max, counts).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) {
    /// let writer = Tag::writer(&pool, WriterConfig::default());
    /// // every minute:
    /// let window = writer.take_histograms();
    /// println!(
    ///     "batches {}: p50 {} calls, p99 {} us",
    ///     window.batch_rows.len(),
    ///     window.batch_rows.value_at_quantile(0.5),
    ///     window.batch_micros.value_at_quantile(0.99),
    /// );
    /// # }
    /// ```
    #[must_use]
    pub fn take_histograms(&self) -> WriterHistograms {
        let mut histograms = self
            .shared
            .stats
            .histograms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *histograms)
    }

    /// Stops taking calls, writes everything already queued, and waits for the last batch
    /// to commit. Calls made afterwards fail with [`Error::WriterClosed`]. Idempotent.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) {
    /// let writer = Tag::writer(&pool, WriterConfig::default());
    /// writer.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.closing.notify_one();
        // Every caller of `shutdown` waits for the last batch, not only the first.
        let mut finished = self.shared.finished.clone();
        let _ = finished.wait_for(|done| *done).await;
    }
}

/// How long the writer trusts its answer to whether the table watches every row (a CHECK
/// constraint or row trigger added meanwhile is seen within this long).
const WATCHES_TTL: Duration = Duration::from_secs(1);

/// How long the writer keeps its connection while no call comes.
const IDLE_RELEASE: Duration = Duration::from_millis(250);

/// What the writer's task holds (not the queue's sender: see [`Shared::closing`]).
struct Task {
    pool: PgPool,
    /// The connection batches go through, held between batches (no checkout, and no
    /// checkout ping, per batch); dropped after a batch-wide failure, and given back to the
    /// pool after [`IDLE_RELEASE`] without calls.
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    /// When [`Task::conn`] was checked out.
    held_since: Instant,
    /// Whether the table watches every row, and when that was asked.
    watches: Option<(bool, Instant)>,
    config: WriterConfig,
    closing: Arc<Notify>,
    stats: Arc<Counters>,
}

/// The writer's task: batch after batch until shutdown, then the rest of the queue.
async fn drain<T: Generated>(mut task: Task, mut jobs: mpsc::Receiver<Job<T>>) {
    let config = task.config;
    let mut batch: Vec<Job<T>> = Vec::with_capacity(config.max_batch);
    loop {
        // Idle for `IDLE_RELEASE` with a connection held: it goes back to the pool (which
        // can then close, recycle or ping it); the next batch checks one out again.
        let idle = tokio::time::sleep(if task.conn.is_some() {
            IDLE_RELEASE
        } else {
            Duration::from_hours(24)
        });
        let first = tokio::select! {
            biased;
            job = jobs.recv() => job,
            () = task.closing.notified() => None,
            () = idle => {
                task.conn = None;
                continue;
            }
        };
        let Some(first) = first else {
            break;
        };
        batch.push(first);
        gather(&mut jobs, &mut batch, config).await;
        flush(&mut task, &mut batch).await;
    }
    // Shutting down: no new calls get in; write what is queued.
    jobs.close();
    while let Some(job) = jobs.recv().await {
        batch.push(job);
        if batch.len() >= config.max_batch {
            flush(&mut task, &mut batch).await;
        }
    }
    flush(&mut task, &mut batch).await;
}

/// Adds what is queued to `batch`. With a `max_delay`, waits up to that long after the
/// first row for more. Without one, it still lets the callers that were just answered queue
/// their next call: it yields to the scheduler while calls keep arriving (the timer's
/// millisecond resolution would cost more than the wait is worth), and stops after two
/// yields that brought nothing.
async fn gather<T>(
    jobs: &mut mpsc::Receiver<Job<T>>,
    batch: &mut Vec<Job<T>>,
    config: WriterConfig,
) {
    const IDLE_YIELDS: u32 = 2;
    let deadline = tokio::time::Instant::now() + config.max_delay;
    let mut idle = 0;
    while batch.len() < config.max_batch {
        let before = batch.len();
        while batch.len() < config.max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() >= config.max_batch {
            break;
        }
        if config.max_delay.is_zero() {
            idle = if batch.len() > before { 0 } else { idle + 1 };
            if idle > IDLE_YIELDS {
                break;
            }
            tokio::task::yield_now().await;
            continue;
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        match tokio::time::timeout_at(deadline, jobs.recv()).await {
            Ok(Some(job)) => batch.push(job),
            Ok(None) | Err(_) => break,
        }
    }
}

/// Writes `batch` and answers each call; leaves `batch` empty.
async fn flush<T: Generated>(task: &mut Task, batch: &mut Vec<Job<T>>) {
    if batch.is_empty() {
        return;
    }
    let jobs = std::mem::take(batch);
    let waited = jobs
        .first()
        .map(|job| job.queued.elapsed())
        .unwrap_or_default();
    let (rows, replies): (Vec<T>, Vec<_>) =
        jobs.into_iter().map(|job| (job.row, job.reply)).unzip();
    let started = Instant::now();
    let results = if let Some(conn) = task.conn.take() {
        Ok(conn)
    } else {
        let conn = task.pool.acquire().await;
        task.held_since = Instant::now();
        conn
    };
    let results = match results {
        Ok(mut conn) => {
            // Whether the table watches every row (then a batch whose keys repeat goes in
            // rounds), asked at most once per `WATCHES_TTL`.
            let watches = match task.watches {
                Some((watches, asked)) if asked.elapsed() < WATCHES_TTL => watches,
                _ => {
                    let watches = crate::postgres::bulk::watches(&mut conn, &T::KEY)
                        .await
                        .unwrap_or(true);
                    task.watches = Some((watches, Instant::now()));
                    watches
                }
            };
            let (results, broken) = apply(&mut conn, &rows, &task.stats, watches).await;
            // Kept for the next batch, unless held for `max_hold` already: then it goes
            // back, and other waiters on the pool get their turn.
            if !broken && task.held_since.elapsed() < task.config.max_hold {
                task.conn = Some(conn);
            }
            results
        }
        // No connection: every call of the batch fails, and nothing was written.
        Err(error) => {
            let source = Arc::new(Error::Sqlx(error));
            rows.iter()
                .map(|_| {
                    Err(Error::Coalesced {
                        rows: rows.len(),
                        source: Arc::clone(&source),
                    })
                })
                .collect()
        }
    };
    let took = started.elapsed();
    task.stats
        .rows
        .fetch_add(rows.len() as u64, Ordering::Relaxed);
    task.stats.busy_micros.fetch_add(
        u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    task.stats
        .histograms
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .record(rows.len(), took);
    record(rows.len(), waited, took);
    for (reply, result) in replies.into_iter().zip(results) {
        // A caller that stopped waiting dropped its receiver; its row is written anyway.
        let _ = reply.send(result);
    }
}

/// The future of [`apply`], boxed: it recurses. Its `bool` says the connection broke.
type Applying<'a> =
    std::pin::Pin<Box<dyn Future<Output = (Vec<Result<UpsertOutcome, Error>>, bool)> + Send + 'a>>;

/// One result per row of `rows`, applying them in order: the batch in one statement, or,
/// when the server rejects it for its data, the parts around the row at fault. Also says
/// whether the batch failed as a whole (the connection is then not reused).
fn apply<'a, T: Generated>(
    conn: &'a mut sqlx::PgConnection,
    rows: &'a [T],
    stats: &'a Counters,
    watches: bool,
) -> Applying<'a> {
    Box::pin(async move {
        if rows.is_empty() {
            return (Vec::new(), false);
        }
        if T::PLAN.update_where.is_some() || T::PLAN.skip_unchanged {
            return one_by_one(conn, rows, stats).await;
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        let error = match crate::postgres::calls::writer_outcomes(&mut *conn, rows, watches).await {
            Ok(outcomes) => return (outcomes.into_iter().map(Ok).collect(), false),
            Err(error) => error,
        };
        if is_batch_wide(&error) || !error.is_row_fault() {
            // Every call of the batch fails, saying whether the write may have been
            // applied; the connection is dropped when it broke.
            let broken = is_broken(&error);
            let source = Arc::new(error);
            let results = rows
                .iter()
                .map(|_| {
                    Err(Error::Coalesced {
                        rows: rows.len(),
                        source: Arc::clone(&source),
                    })
                })
                .collect();
            return (results, broken);
        }
        if rows.len() == 1 {
            return (vec![Err(error)], false);
        }
        let (front, fault, back) = match error {
            // The row at fault is known: it fails alone; the rows before and after it are
            // sent again, in order.
            Error::Row { index, source } if index < rows.len() => {
                (&rows[..index], Some(*source), &rows[index + 1..])
            }
            // The data was rejected, the row unknown: halves, in order, down to the rows at
            // fault.
            _ => {
                let (front, back) = rows.split_at(rows.len() / 2);
                (front, None, back)
            }
        };
        let (mut results, broken) = apply(&mut *conn, front, stats, watches).await;
        if broken {
            return (fail_rest(results, rows.len()), true);
        }
        results.extend(fault.map(Err));
        let (rest, broken) = apply(&mut *conn, back, stats, watches).await;
        results.extend(rest);
        (results, broken)
    })
}

/// A batch of a struct with `update_where` or `skip_unchanged`, one statement per row on the
/// held connection: a batch statement judges every row of a key against the row stored
/// before it, where one by one each row meets what the previous one left.
async fn one_by_one<T: Generated>(
    conn: &mut sqlx::PgConnection,
    rows: &[T],
    stats: &Counters,
) -> (Vec<Result<UpsertOutcome, Error>>, bool) {
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        stats.batches.fetch_add(1, Ordering::Relaxed);
        match crate::postgres::calls::upsert(row, &mut *conn, 1).await {
            Ok(outcome) => results.push(Ok(outcome)),
            Err(error) if is_broken(&error) => {
                results.push(Err(error));
                return (fail_rest(results, rows.len()), true);
            }
            Err(error) => results.push(Err(error)),
        }
    }
    (results, false)
}

/// `results` for the first rows of a batch whose connection broke while it was being split,
/// and the same failure for the rest, not sent yet (so not applied, though the shared
/// error, conservatively, says "may have been").
fn fail_rest(
    mut results: Vec<Result<UpsertOutcome, Error>>,
    rows: usize,
) -> Vec<Result<UpsertOutcome, Error>> {
    let source = results
        .iter()
        .rev()
        .find_map(|result| match result {
            Err(Error::Coalesced { source, .. }) => Some(Arc::clone(source)),
            Err(other) => Some(Arc::new(Error::Coalesced {
                rows,
                source: Arc::new(Error::Sqlx(sqlx::Error::Protocol(other.to_string()))),
            })),
            Ok(_) => None,
        })
        .unwrap_or_else(|| Arc::new(Error::Sqlx(sqlx::Error::WorkerCrashed)));
    while results.len() < rows {
        results.push(Err(Error::Coalesced {
            rows,
            source: Arc::clone(&source),
        }));
    }
    results
}

/// Whether an error is about the batch as a whole (the connection, the pool, a transient
/// conflict), not about a row's data.
fn is_batch_wide(error: &Error) -> bool {
    error.is_transient() || error.may_have_been_applied() || is_broken(error)
}

/// Whether the connection cannot be used again: closed by the server or the network.
fn is_broken(error: &Error) -> bool {
    error.may_have_been_applied()
        || error
            .sqlstate()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        || matches!(
            error.as_sqlx(),
            Some(sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed)
        )
}

/// A batch's size, how long its first call waited in the queue, and how long its statement
/// took: a DEBUG event when the `tracing` feature is on.
#[allow(unused_variables)]
fn record(rows: usize, waited: Duration, took: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "atomic_upsert::writer",
        batch_rows = rows,
        queue_wait_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
        statement_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "coalesced batch written"
    );
}
