//! The strategies: what each one (naive, naive + retry, `MERGE`, derive, hand-written)
//! sends for one operation of a workload, through the pool or on a held connection.

use atomic_upsert::sqlx::{self, PgConnection, PgPool, Row as _};
use atomic_upsert::{AtomicUpsert as _, UpsertOutcome};

use crate::fixtures::{
    Counter, EntityState, HAND_COUNTER_SQL, HAND_UPSERT_SQL, HAND_VERSION_SQL, Kind, MERGE_SQL,
    NAIVE_COUNTER_INSERT, NAIVE_COUNTER_SELECT, NAIVE_COUNTER_UPDATE, NAIVE_INSERT, NAIVE_SELECT,
    NAIVE_UPDATE, NAIVE_VERSION_INSERT, NAIVE_VERSION_SELECT, NAIVE_VERSION_UPDATE, StravaStats,
};

/// Where an operation runs: through the pool (a checkout per operation), or on a
/// connection the worker holds for the whole run.
pub enum Via<'a> {
    Pool(&'a PgPool),
    Conn(&'a mut PgConnection),
}

/// Runs one call on `$via` (a `&mut Via`), in one of two forms.
///
/// `on!(via, |e| call)`: `call` with `e` the executor `via` stands for, `&PgPool` or
/// `&mut PgConnection`. These are different sqlx executor types, so `call` is expanded
/// once per variant and stays exactly the call written: `call` on `&pool` (sqlx checks a
/// connection out and back in inside it) or on `&mut *conn`.
///
/// `on!(via, |c: &mut PgConnection| call)`: `call` with `c` a connection, for strategies
/// that send several statements on one connection: one checked out of the pool for this
/// operation (returned when `call` is done), or the held one. `call` returns a
/// `Result<_, sqlx::Error>`; a failed checkout is returned as its error.
macro_rules! on {
    ($via:expr, |$c:ident: &mut PgConnection| $call:expr) => {
        match $via {
            Via::Pool(pool) => match pool.acquire().await {
                Ok(mut conn) => {
                    let $c: &mut PgConnection = &mut conn;
                    $call
                }
                Err(e) => Err(e),
            },
            Via::Conn(conn) => {
                let $c: &mut PgConnection = conn;
                $call
            }
        }
    };
    ($via:expr, |$e:ident| $call:expr) => {
        match $via {
            Via::Pool(pool) => {
                let $e = *pool;
                $call
            }
            Via::Conn(conn) => {
                let $e = &mut **conn;
                $call
            }
        }
    };
}

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

impl Kind {
    /// The strategies this workload compares.
    pub fn strategies(self) -> &'static [Strategy] {
        match self {
            Kind::Sequential | Kind::Concurrent | Kind::Race => &Strategy::ALL,
            Kind::Counter | Kind::Version => &[Strategy::Naive, Strategy::Derive, Strategy::Hand],
        }
    }
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

    /// One operation: upsert `row` through `via`. The error is the SQLSTATE, or a
    /// short client-side reason.
    pub async fn run(self, via: &mut Via<'_>, row: &StravaStats) -> Result<(), String> {
        match self {
            Strategy::Naive => naive(via, row).await.map_err(|e| sqlstate(&e)),
            Strategy::NaiveRetry => {
                let mut attempt = 1;
                loop {
                    match naive(via, row).await {
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
                on!(via, |e| query.execute(e).await)
                    .map(drop)
                    .map_err(|e| sqlstate(&e))
            }
            Strategy::Derive => {
                let outcome = on!(via, |e| row.upsert(e).await);
                match outcome {
                    Ok(outcome) => {
                        std::hint::black_box(outcome);
                        Ok(())
                    }
                    Err(e) => Err(e.sqlstate().map_or_else(|| e.to_string(), str::to_owned)),
                }
            }
            Strategy::Hand => hand(via, row).await.map_err(|e| sqlstate(&e)),
        }
    }

    /// One increment of a hot counter (naive, derive or hand only). `Ok(true)` when the
    /// row was not written (never, here).
    pub async fn run_counter(self, via: &mut Via<'_>, row: &Counter) -> Result<bool, String> {
        match self {
            Strategy::Derive => derive_outcome(on!(via, |e| row.upsert(e).await)),
            Strategy::Hand => {
                let query = sqlx::query(HAND_COUNTER_SQL).bind(&row.name).bind(row.n);
                hand_outcome(on!(via, |e| query.fetch_optional(e).await))
            }
            _ => on!(via, |c: &mut PgConnection| naive_counter(c, row).await)
                .map_err(|e| sqlstate(&e)),
        }
    }

    /// One event for a versioned entity (naive, derive or hand only). `Ok(true)` when the
    /// event was found stale and not written.
    pub async fn run_version(self, via: &mut Via<'_>, row: &EntityState) -> Result<bool, String> {
        match self {
            Strategy::Derive => derive_outcome(on!(via, |e| row.upsert(e).await)),
            Strategy::Hand => {
                let query = sqlx::query(HAND_VERSION_SQL)
                    .bind(&row.id)
                    .bind(row.value)
                    .bind(row.version);
                hand_outcome(on!(via, |e| query.fetch_optional(e).await))
            }
            _ => on!(via, |c: &mut PgConnection| naive_version(c, row).await)
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

/// The seed's "UNSAFE" pattern (the README's version: autocommit, no transaction around
/// the two statements). Through the pool it checks out one connection per operation.
async fn naive(via: &mut Via<'_>, row: &StravaStats) -> Result<(), sqlx::Error> {
    on!(via, |c: &mut PgConnection| naive_on(c, row).await)
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
async fn hand(via: &mut Via<'_>, row: &StravaStats) -> Result<(), sqlx::Error> {
    let query = sqlx::query(HAND_UPSERT_SQL)
        .bind(&row.stats_type)
        .bind(&row.data);
    let answer = on!(via, |e| query.fetch_optional(e).await)?;
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
