//! Cancellation: every public async call of the crate, dropped at a random await point (a
//! timeout, `select!`, a dropped handler), leaves the pool's connections in sync and clean,
//! or closed. On a pool of one connection, each call is dropped after a random delay many
//! times; after each drop a canary (an `add` upsert twice, then a read of the row, the
//! session's `statement_timeout` and whether a transaction is left open) must be exactly
//! right.
//!
//! On a connection the caller lends (`&mut *conn`, `&mut *tx`), `upsert_many` takes the
//! `UNNEST` path, which the random drops cover. An explicit `COPY` there (a stream) dropped
//! while its rows are being sent, the long part of a stream's life, closes the connection
//! rather than leave it out of step: the last test. Dropped while the server acknowledges
//! its end, it cannot be repaired (documented on `upsert_many_via` and `upsert_stream`).

use std::time::Duration;

use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, BulkPath, Retry, UpsertOutcome, Writer, WriterConfig};
use futures_util::{StreamExt as _, stream};
use upsert_testkit::TestDb;

use crate::support::Rng;

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "counters")]
struct Counter {
    #[conflict_key]
    k: i64,
    #[upsert(add)]
    n: i64,
}

const COUNTERS: &str = "CREATE TABLE counters (k int8 PRIMARY KEY, n int8 NOT NULL)";

/// The calls dropped, each on the pool (or a connection held from it).
#[derive(Clone, Copy, Debug)]
enum Call {
    Upsert,
    UpsertReturning,
    InsertOrGet,
    ManyUnnest,
    ManyCopy,
    ManyHeld,
    ManyInTransaction,
    Stream,
    Retry,
    RetryTimeout,
    Writer,
}

const CALLS: [Call; 11] = [
    Call::Upsert,
    Call::UpsertReturning,
    Call::InsertOrGet,
    Call::ManyUnnest,
    Call::ManyCopy,
    Call::ManyHeld,
    Call::ManyInTransaction,
    Call::Stream,
    Call::Retry,
    Call::RetryTimeout,
    Call::Writer,
];

fn batch(rows: i64) -> Vec<Counter> {
    (0..rows).map(|k| Counter { k, n: 1 }).collect()
}

/// Runs `call` to completion (the caller drops it part way).
async fn run(call: Call, pool: &PgPool, writer: &Writer<Counter>) {
    let one = Counter { k: 7, n: 1 };
    let many = batch(4_000);
    let _ = match call {
        Call::Upsert => one.upsert(pool).await.map(drop),
        Call::UpsertReturning => one.upsert_returning(pool).await.map(drop),
        Call::InsertOrGet => one.insert_or_get(pool).await.map(drop),
        Call::ManyUnnest => Counter::upsert_many_via(pool, &many, BulkPath::Unnest)
            .await
            .map(drop),
        Call::ManyCopy => Counter::upsert_many_via(pool, &many, BulkPath::Copy)
            .await
            .map(drop),
        Call::ManyHeld => {
            let mut conn = pool.acquire().await.unwrap();
            Counter::upsert_many(&mut *conn, &many).await.map(drop)
        }
        Call::ManyInTransaction => {
            let mut tx = pool.begin().await.unwrap();
            let done = Counter::upsert_many(&mut *tx, &many).await;
            tx.commit().await.unwrap();
            done.map(drop)
        }
        Call::Stream => Counter::upsert_stream(pool, stream::iter(many), |_| {})
            .await
            .map(drop),
        Call::Retry => Retry::default().upsert(pool, &one).await.map(drop),
        Call::RetryTimeout => Retry::default()
            .timeout(Duration::from_secs(5))
            .upsert_many(pool, &many)
            .await
            .map(drop),
        Call::Writer => writer.upsert(one).await.map(drop),
    };
}

/// The canary: exactly right, or the connection it ran on was out of step.
async fn canary(pool: &PgPool, k: i64, after: &str) {
    let row = Counter { k, n: 1 };
    assert_eq!(
        row.upsert(pool).await.unwrap(),
        UpsertOutcome::Inserted,
        "{after}"
    );
    assert_eq!(
        row.upsert(pool).await.unwrap(),
        UpsertOutcome::Updated,
        "{after}"
    );
    let (n, timeout, open): (i64, String, bool) = sqlx::query_as(
        "SELECT n, current_setting('statement_timeout'), \
         pg_current_xact_id_if_assigned() IS NOT NULL FROM counters WHERE k = $1",
    )
    .bind(k)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("{after}: {e}"));
    assert_eq!(n, 2, "{after}");
    assert_eq!(timeout, "0", "{after}: a setting was left behind");
    assert!(!open, "{after}: a transaction was left open");
}

#[tokio::test]
async fn every_call_dropped_anywhere_leaves_the_pool_in_sync() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(COUNTERS).execute(&db.pool).await.unwrap();
    let writer = Writer::new(db.pool.clone(), WriterConfig::default());
    // How long each call takes whole, so that the drops land all along it.
    let mut whole = Vec::new();
    for call in CALLS {
        let started = std::time::Instant::now();
        run(call, &db.pool, &writer).await;
        whole.push(started.elapsed());
    }
    let mut rng = Rng(0x00ca_9ce1);
    let mut k = 1_000_000;
    for round in 0..12 {
        for (call, took) in CALLS.iter().zip(&whole) {
            let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(50);
            let delay = Duration::from_micros(rng.below(micros * 2));
            let _ = tokio::time::timeout(delay, run(*call, &db.pool, &writer)).await;
            k += 1;
            canary(
                &db.pool,
                k,
                &format!("round {round}, {call:?} dropped after {delay:?}"),
            )
            .await;
        }
    }
    writer.shutdown().await;
    db.finish().await;
}

/// A stream that sends some rows, then waits forever (an upload that stalls), dropped there
/// on a connection and in a transaction the caller lends: the server ends the session
/// (the `COPY` was left open), so the next statement fails and the pool drops the
/// connection; nothing of the call or of the caller's transaction is written, and the pool
/// goes on with a new connection.
#[tokio::test]
async fn a_stream_dropped_mid_copy_closes_a_lent_connection_and_loses_nothing() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(COUNTERS).execute(&db.pool).await.unwrap();
    let stalled = || stream::iter(batch(3_000)).chain(stream::pending());
    for round in 0..3 {
        let mut conn = db.pool.acquire().await.unwrap();
        let dropped = tokio::time::timeout(
            Duration::from_millis(50),
            Counter::upsert_stream(&mut *conn, stalled(), |_| {}),
        )
        .await;
        assert!(dropped.is_err(), "the stream stalls: the call is dropped");
        next_statements_fail(&mut conn).await;
        drop(conn);
        canary(
            &db.pool,
            5_000_000 + round,
            "after a stalled stream on a held connection",
        )
        .await;

        let mut tx = db.pool.begin().await.unwrap();
        Counter { k: -2, n: 1 }.upsert(&mut *tx).await.unwrap();
        let dropped = tokio::time::timeout(
            Duration::from_millis(50),
            Counter::upsert_stream(&mut *tx, stalled(), |_| {}),
        )
        .await;
        assert!(dropped.is_err());
        next_statements_fail(&mut tx).await;
        assert!(tx.commit().await.is_err(), "the session is gone");
        canary(
            &db.pool,
            6_000_000 + round,
            "after a stalled stream in a transaction",
        )
        .await;
        let stray: i64 = sqlx::query_scalar("SELECT count(*) FROM counters WHERE k < 1000000")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            stray, 0,
            "nothing of the stream or of the transaction was written"
        );
    }
    db.finish().await;
}

/// The statements after a `COPY` left open fail: the first with the copy's abort, then
/// because the server ended the session.
async fn next_statements_fail(conn: &mut sqlx::PgConnection) {
    let error = sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    let code = error
        .as_database_error()
        .map(|e| e.code().unwrap_or_default().into_owned());
    assert_eq!(code.as_deref(), Some("08P01"), "{error}");
    assert!(sqlx::query("SELECT 1").execute(&mut *conn).await.is_err());
}
