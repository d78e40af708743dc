//! Retries that never double-count: a call is retried when its failure is transient and
//! either certainly not applied or harmless to apply twice (the struct's `IDEMPOTENT`).

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnection, PgPool};

use crate::dispatch::{BulkPath, Derived};
use crate::error::Error;
use crate::outcome::{BatchOutcome, UpsertOutcome};
use crate::postgres::calls;
use crate::postgres::cancel::Guarded;
use crate::postgres::generated::FromStored;
use crate::telemetry::{CallSpan, Op};
use crate::upsert::AtomicUpsert;

/// A retry policy for calls on a pool: how many attempts, a jittered exponential backoff, a
/// total deadline, and an optional per-attempt timeout that cancels on the server.
///
/// A failure is retried when [`Error::is_transient`] and either not
/// [`Error::may_have_been_applied`] or the struct is [`IDEMPOTENT`](AtomicUpsert::IDEMPOTENT):
/// an `add` counter whose last attempt broke off after sending is returned as the error,
/// never applied twice. A stale prepared statement ([`Error::StaleStatement`]) is retried
/// after clearing that connection's statement cache. Calls inside a caller's transaction
/// are not offered: a transient error there aborts the transaction, which must be retried
/// as a whole.
///
/// ```no_run
/// use std::time::Duration;
/// use atomic_upsert::{AtomicUpsert, Retry};
///
/// #[derive(AtomicUpsert)]
/// struct PageViews { #[conflict_key] url: String, #[upsert(add)] views: i64 }
///
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// let retry = Retry::default().attempts(5).timeout(Duration::from_secs(2));
/// retry.upsert(&pool, &PageViews { url: "/".into(), views: 1 }).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Retry {
    attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    deadline: Option<Duration>,
    timeout: Option<Duration>,
}

impl Default for Retry {
    /// 5 attempts, backoff from 10 ms doubling to at most 1 s (each delay jittered down to
    /// half), no deadline, no timeout.
    fn default() -> Self {
        Retry {
            attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            deadline: None,
            timeout: None,
        }
    }
}

/// The extra time the client waits past the server's `statement_timeout` before it gives
/// up on an answer (and then cannot know whether the statement ran).
const GRACE: Duration = Duration::from_secs(1);

impl Retry {
    /// How many attempts in all (at least 1).
    ///
    /// ```
    /// let retry = atomic_upsert::Retry::default().attempts(3);
    /// # let _ = retry;
    /// ```
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The first delay and the largest; each retry doubles the delay, then takes a random
    /// point between half of it and all of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let retry = atomic_upsert::Retry::default().backoff(Duration::from_millis(5), Duration::from_millis(200));
    /// # let _ = retry;
    /// ```
    #[must_use]
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// No new attempt starts after this much time since the first.
    ///
    /// ```
    /// let retry = atomic_upsert::Retry::default().deadline(std::time::Duration::from_secs(10));
    /// # let _ = retry;
    /// ```
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Each attempt's statement runs under `statement_timeout`: the server cancels it, so a
    /// timed-out attempt is certainly not applied ([`Error::TimedOut`] with
    /// `may_have_been_applied: false`) and can be retried. Costs two round trips per
    /// attempt (`SET` and `RESET`). The client waits one more second before giving up on an
    /// answer; only then is the outcome unknown.
    ///
    /// ```
    /// let retry = atomic_upsert::Retry::default().timeout(std::time::Duration::from_millis(500));
    /// # let _ = retry;
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout.max(Duration::from_millis(1)));
        self
    }

    /// [`AtomicUpsert::upsert`] with retries.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Retry};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, tag: Tag) -> Result<(), atomic_upsert::Error> {
    /// Retry::default().upsert(&pool, &tag).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert<T: AtomicUpsert>(
        &self,
        pool: &PgPool,
        row: &T,
    ) -> Result<UpsertOutcome, Error> {
        self.run(pool, T::IDEMPOTENT, &Upsert(row)).await
    }

    /// [`AtomicUpsert::insert_or_ignore`] with retries (always idempotent).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Retry};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, tag: Tag) -> Result<(), atomic_upsert::Error> {
    /// Retry::default().insert_or_ignore(&pool, &tag).await?;
    /// # Ok(()) }
    /// ```
    pub async fn insert_or_ignore<T: AtomicUpsert>(
        &self,
        pool: &PgPool,
        row: &T,
    ) -> Result<UpsertOutcome, Error> {
        self.run(pool, true, &InsertOrIgnore(row)).await
    }

    /// [`AtomicUpsert::upsert_returning`] with retries.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Retry};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, tag: Tag) -> Result<(), atomic_upsert::Error> {
    /// let stored: Option<Tag> = Retry::default().upsert_returning(&pool, &tag).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert_returning<T>(&self, pool: &PgPool, row: &T) -> Result<Option<T>, Error>
    where
        T: AtomicUpsert + for<'r> FromStored<'r>,
    {
        self.run(pool, T::IDEMPOTENT, &UpsertReturning(row)).await
    }

    /// [`AtomicUpsert::upsert_many`] with retries (the batch is all or nothing, so an
    /// attempt that failed on the server wrote nothing).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Retry};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, tags: Vec<Tag>) -> Result<(), atomic_upsert::Error> {
    /// Retry::default().upsert_many(&pool, &tags).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert_many<T: AtomicUpsert>(
        &self,
        pool: &PgPool,
        rows: &[T],
    ) -> Result<BatchOutcome, Error> {
        self.run(pool, T::IDEMPOTENT, &UpsertMany(rows)).await
    }

    async fn run<C: Retried>(
        &self,
        pool: &PgPool,
        idempotent: bool,
        call: &C,
    ) -> Result<C::Output, Error> {
        let started = Instant::now();
        let mut seed = jitter_seed();
        let mut delay = self.base_delay;
        let mut attempt = 1;
        loop {
            let error = match self.once(pool, call, attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let retryable = error.is_transient() && (idempotent || !error.may_have_been_applied());
            let out_of_time = self
                .deadline
                .is_some_and(|deadline| started.elapsed() + delay >= deadline);
            if !retryable || attempt >= self.attempts || out_of_time {
                return Err(error);
            }
            tokio::time::sleep(jittered(delay, &mut seed)).await;
            delay = (delay * 2).min(self.max_delay);
            attempt += 1;
        }
    }

    /// One attempt on a connection of its own.
    async fn once<C: Retried>(
        &self,
        pool: &PgPool,
        call: &C,
        attempt: u32,
    ) -> Result<C::Output, Error> {
        // Failures outside the call itself (no connection, the timeout not set, no answer
        // in time) get the same WARN/ERROR event as the call's own.
        let outside = |error: Error| {
            CallSpan::start(C::OP, &<C::Row as Derived>::KEY, call.rows(), attempt).failed(&error);
            error
        };
        // Dropped part way (the caller's own timeout, `select!`), the attempt closes its
        // connection: a `statement_timeout` set for it never reaches another call.
        let mut conn = Guarded::new(
            pool.acquire()
                .await
                .map_err(|error| outside(Error::from(error)))?,
        );
        let started = Instant::now();
        let result = match self.timeout {
            None => call.call(&mut conn, attempt).await,
            Some(timeout) => {
                let set = format!("SET statement_timeout = {}", timeout.as_millis());
                sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                    .execute(&mut *conn)
                    .await
                    .map_err(|error| outside(Error::from(error)))?;
                let Ok(result) =
                    tokio::time::timeout(timeout + GRACE, call.call(&mut conn, attempt)).await
                else {
                    // No answer: the statement may still run. The guard closes this
                    // connection.
                    return Err(outside(Error::TimedOut {
                        elapsed: started.elapsed(),
                        may_have_been_applied: true,
                    }));
                };
                if sqlx::raw_sql("RESET statement_timeout")
                    .execute(&mut *conn)
                    .await
                    .is_err()
                {
                    // The setting may have stayed: the guard closes this connection.
                    return result;
                }
                result.map_err(|error| match error.sqlstate() {
                    // Our statement_timeout: the server cancelled it, nothing was applied.
                    Some("57014") => Error::TimedOut {
                        elapsed: started.elapsed(),
                        may_have_been_applied: false,
                    },
                    _ => error,
                })
            }
        };
        if let Err(Error::StaleStatement { .. }) = &result {
            // sqlx keeps the stale statement; drop this connection's cache so the retry
            // prepares it again.
            let _ = sqlx::Connection::clear_cached_statements(&mut *conn).await;
        }
        conn.finished();
        result
    }
}

/// One call a [`Retry`] repeats, on the connection of each attempt (numbered from 1, for
/// the call's span).
trait Retried {
    type Output;
    /// The struct, whose table the events of failures outside the call name.
    type Row: AtomicUpsert;
    /// The operation, for those events.
    const OP: Op;
    /// The rows it sends.
    fn rows(&self) -> usize {
        1
    }
    fn call<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        attempt: u32,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send + 'c;
}

struct Upsert<'r, T>(&'r T);
struct InsertOrIgnore<'r, T>(&'r T);
struct UpsertReturning<'r, T>(&'r T);
struct UpsertMany<'r, T>(&'r [T]);

impl<T: AtomicUpsert> Retried for Upsert<'_, T> {
    type Output = UpsertOutcome;
    type Row = T;
    const OP: Op = Op::Upsert;
    fn call<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        attempt: u32,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send + 'c {
        calls::upsert(self.0, conn, attempt)
    }
}

impl<T: AtomicUpsert> Retried for InsertOrIgnore<'_, T> {
    type Output = UpsertOutcome;
    type Row = T;
    const OP: Op = Op::InsertOrIgnore;
    fn call<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        attempt: u32,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send + 'c {
        calls::insert_or_ignore(self.0, conn, attempt)
    }
}

impl<T: AtomicUpsert + for<'s> FromStored<'s>> Retried for UpsertReturning<'_, T> {
    type Output = Option<T>;
    type Row = T;
    const OP: Op = Op::UpsertReturning;
    fn call<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        attempt: u32,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send + 'c {
        calls::upsert_returning(self.0, conn, attempt)
    }
}

impl<T: AtomicUpsert> Retried for UpsertMany<'_, T> {
    type Output = BatchOutcome;
    type Row = T;
    const OP: Op = Op::UpsertMany;
    fn rows(&self) -> usize {
        self.0.len()
    }
    fn call<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        attempt: u32,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send + 'c {
        calls::upsert_many(conn, self.0, BulkPath::Auto, attempt)
    }
}

fn jitter_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos) | 1
}

/// A point between half of `delay` and all of it (xorshift).
fn jittered(delay: Duration, seed: &mut u64) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let thousandths = u32::try_from(*seed % 1000).unwrap_or(0);
    delay.mul_f64(0.5 + f64::from(thousandths) / 2000.0)
}
