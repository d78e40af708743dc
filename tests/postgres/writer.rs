//! The coalescing writer and per-row batch outcomes: coalesced calls equal one-by-one calls
//! in arrival order (outcomes and table), a bad row fails only its own call, killed backends
//! leave typed errors and exact sums, shutdown flushes the queue, and the stats and
//! histograms count what was written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use atomic_upsert::sqlx::types::Json;
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, Error, UpsertOutcome, WriterConfig};
use upsert_testkit::TestDb;

use crate::support::{Killer, Rng, snapshot, victim_pool};

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "hits")]
struct Hit {
    #[conflict_key]
    page: String,
    last: i32,
    #[upsert(add)]
    n: i64,
    #[upsert(insert_only)]
    first: i32,
}

const HITS: &str = "CREATE TABLE hits (page text PRIMARY KEY, last int4 NOT NULL CHECK (last >= 0), \
    n int8 NOT NULL, first int4 NOT NULL)";

fn random_hits(rng: &mut Rng, count: usize, keys: u64) -> Vec<Hit> {
    (0..count)
        .map(|_| {
            let v = rng.int(1000);
            Hit {
                page: format!("p{}", rng.below(keys)),
                last: v,
                n: i64::from(rng.int(5)),
                first: v,
            }
        })
        .collect()
}

/// Runs `futures` concurrently, polling them in index order, so that each queues its row
/// before the next one does; their outputs in that order.
async fn in_order<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

/// Random workloads with repeated keys and `add`: every coalesced call returns what `upsert`
/// called in arrival order returns, and the table ends the same. The calls are queued in
/// index order (one task polls them in order), so arrival order is index order.
#[tokio::test]
async fn coalesced_calls_equal_one_by_one_in_arrival_order() {
    let db = TestDb::new(4).await;
    let mut rng = Rng(0xc0a1_e5ce);
    for round in 0..6 {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS hits; {HITS}"
        )))
        .execute(&db.pool)
        .await
        .unwrap();
        let calls = random_hits(&mut rng, 300 + round * 100, 20 + 10 * round as u64);
        let config = WriterConfig {
            max_batch: [7, 64, 1024][round % 3],
            max_delay: Duration::from_micros([0, 200, 1000][round % 3]),
            queue: 4096,
            ..WriterConfig::default()
        };

        let mut tx = db.pool.begin().await.unwrap();
        let mut expected = Vec::new();
        for call in &calls {
            expected.push(call.upsert(&mut *tx).await.unwrap());
        }
        let expected_rows = snapshot(&mut tx, "hits", "page").await;
        tx.rollback().await.unwrap();

        let writer = Hit::writer(&db.pool, config);
        let outcomes: Vec<UpsertOutcome> = in_order(calls.iter().cloned().map(|call| {
            let writer = writer.clone();
            async move { writer.upsert(call).await.unwrap() }
        }))
        .await;
        writer.shutdown().await;
        let mut conn = db.pool.acquire().await.unwrap();
        assert_eq!(
            outcomes, expected,
            "round {round}: outcomes differ from one by one"
        );
        assert_eq!(
            snapshot(&mut conn, "hits", "page").await,
            expected_rows,
            "round {round}: rows differ from one by one"
        );
    }
    db.finish().await;
}

/// 1,000 concurrent calls, one of them violating a CHECK constraint: exactly that call
/// fails, with the typed error; the 999 others are written.
#[tokio::test]
async fn a_bad_row_fails_only_its_own_call() {
    let db = TestDb::new(4).await;
    sqlx::raw_sql(HITS).execute(&db.pool).await.unwrap();
    let writer = Hit::writer(&db.pool, WriterConfig::default());
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let hit = Hit {
                page: format!("p{i}"),
                last: if i == 617 { -1 } else { i },
                n: 1,
                first: i,
            };
            (i, writer.upsert(hit).await)
        }));
    }
    let mut failed = Vec::new();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        match result {
            Ok(outcome) => assert_eq!(outcome, UpsertOutcome::Inserted),
            Err(error) => failed.push((i, error)),
        }
    }
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, 617);
    assert!(
        matches!(failed[0].1, Error::CheckViolation { .. }),
        "{:?}",
        failed[0].1
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM hits")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 999);
    writer.shutdown().await;
    db.finish().await;
}

/// The writer's connections terminated again and again mid-run: every call is acknowledged
/// or fails with a typed error saying whether it may have been applied, and the sum of the
/// counters lies between the acknowledged increments and those plus the maybe-applied ones.
#[tokio::test]
async fn killed_backends_fail_only_their_batch_with_typed_errors_and_exact_sums() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(HITS).execute(&db.pool).await.unwrap();
    let pool = victim_pool(&db, "au_writer_victim", 2).await;
    let killer = Killer::start(
        db.pool.clone(),
        "au_writer_victim",
        Duration::from_millis(15),
    );
    let writer = Hit::writer(&pool, WriterConfig::default());
    let (acknowledged, maybe, not_applied) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let (writer, acknowledged, maybe, not_applied) = (
            writer.clone(),
            acknowledged.clone(),
            maybe.clone(),
            not_applied.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for round in 0..100 {
                let hit = Hit {
                    page: format!("p{}", (worker + round) % 8),
                    last: round,
                    n: 1,
                    first: round,
                };
                match writer.upsert(hit).await {
                    Ok(_) => acknowledged.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.may_have_been_applied() => maybe.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.is_transient() => not_applied.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("untyped failure: {e:?}"),
                };
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let terminated = killer.stop().await;
    writer.shutdown().await;
    let (acknowledged, maybe, not_applied) = (
        acknowledged.load(Ordering::Relaxed),
        maybe.load(Ordering::Relaxed),
        not_applied.load(Ordering::Relaxed),
    );
    assert_eq!(acknowledged + maybe + not_applied, 3200);
    assert!(
        terminated > 0,
        "the killer must have hit the writer's connections"
    );
    assert!(
        maybe + not_applied > 0,
        "some batch must have failed: terminated {terminated}"
    );
    let sum: i64 = sqlx::query_scalar("SELECT coalesce(sum(n), 0)::int8 FROM hits")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let sum = u64::try_from(sum).unwrap();
    assert!(
        acknowledged <= sum && sum <= acknowledged + maybe,
        "sum {sum}, acknowledged {acknowledged}, maybe {maybe}"
    );
    db.finish().await;
}

/// Shutdown writes every queued call before it returns; later calls fail with
/// `WriterClosed`.
#[tokio::test]
async fn shutdown_flushes_the_queue() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(HITS).execute(&db.pool).await.unwrap();
    let writer = Hit::writer(
        &db.pool,
        WriterConfig {
            max_delay: Duration::from_millis(50),
            max_batch: 100,
            queue: 10_000,
            ..WriterConfig::default()
        },
    );
    let calls: Vec<_> = (0..2000)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .upsert(Hit {
                        page: format!("p{i}"),
                        last: i,
                        n: 1,
                        first: i,
                    })
                    .await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    writer.shutdown().await;
    let mut written = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(UpsertOutcome::Inserted) => written += 1,
            Err(Error::WriterClosed) => {}
            other => panic!("{other:?}"),
        }
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM hits")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        rows, written,
        "every acknowledged call is stored, and only those"
    );
    assert!(written > 0);
    // The counters and the distributions agree; a window starts empty after a take.
    let stats = writer.stats();
    assert_eq!(stats.rows, u64::try_from(written).unwrap());
    let window = writer.take_histograms();
    assert_eq!(window.batch_rows.len(), stats.batches);
    assert!(window.batch_rows.max() <= 100, "max_batch is 100");
    let recorded: u64 = window
        .batch_rows
        .iter_recorded()
        .map(|v| v.value_iterated_to() * v.count_at_value())
        .sum();
    assert_eq!(recorded, stats.rows, "exact below 2048 calls per batch");
    assert_eq!(window.batch_micros.len(), stats.batches);
    assert!(window.batch_micros.max() > 0);
    assert_eq!(writer.take_histograms().batch_rows.len(), 0, "a new window");
    assert_eq!(writer.stats().since(&stats).batches, 0);
    let late = writer
        .upsert(Hit {
            page: "late".into(),
            last: 0,
            n: 1,
            first: 0,
        })
        .await;
    assert!(matches!(late, Err(Error::WriterClosed)), "{late:?}");
    db.finish().await;
}

#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "profiles", skip_unchanged)]
struct Profile {
    #[conflict_key]
    id: i32,
    name: String,
}

/// A struct with `skip_unchanged` (or `update_where`) meets each earlier call's result, as
/// `upsert` in order would, even when one batch holds a key several times.
#[tokio::test]
async fn guarded_calls_in_one_batch_see_the_previous_ones() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE profiles (id int4 PRIMARY KEY, name text NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let writer = Profile::writer(
        &db.pool,
        WriterConfig {
            max_delay: Duration::from_millis(20),
            ..WriterConfig::default()
        },
    );
    let calls = [(1, "a"), (1, "a"), (1, "b"), (2, "x"), (1, "b")];
    let outcomes = in_order(calls.iter().map(|&(id, name)| {
        let writer = writer.clone();
        async move {
            writer
                .upsert(Profile {
                    id,
                    name: name.into(),
                })
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(
        outcomes,
        [
            UpsertOutcome::Inserted,
            UpsertOutcome::Unchanged,
            UpsertOutcome::Updated,
            UpsertOutcome::Inserted,
            UpsertOutcome::Unchanged
        ]
    );
    writer.shutdown().await;
    db.finish().await;
}

/// A `Serialize` that panics on 13: the writer's task stops mid-batch.
struct Fuse(i64);

impl serde::Serialize for Fuse {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        assert_ne!(self.0, 13, "a panicking Serialize");
        serializer.serialize_i64(self.0)
    }
}

#[derive(AtomicUpsert)]
#[upsert(table = "fused")]
struct Fused {
    #[conflict_key]
    k: i64,
    v: Json<Fuse>,
}

/// A panic in the writer's task fails the calls it held as maybe applied
/// (`WriterFailed`), never as "not queued"; later calls fail with `WriterClosed`, and
/// `shutdown` returns.
#[tokio::test]
async fn a_stopped_task_fails_its_calls_as_maybe_applied() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE fused (k int8 PRIMARY KEY, v jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let writer = Fused::writer(
        &db.pool,
        WriterConfig {
            max_delay: Duration::from_millis(50),
            ..WriterConfig::default()
        },
    );
    let calls: Vec<_> = (0..20)
        .map(|k| {
            let writer = writer.clone();
            tokio::spawn(async move {
                (
                    k,
                    writer
                        .upsert(Fused {
                            k,
                            v: Json(Fuse(k)),
                        })
                        .await,
                )
            })
        })
        .collect();
    let mut failed = 0;
    for call in calls {
        match call.await.unwrap() {
            (_, Err(error @ Error::WriterFailed)) => {
                assert!(error.may_have_been_applied());
                failed += 1;
            }
            (13, other) => panic!("the panicking row's call: {other:?}"),
            (_, Ok(UpsertOutcome::Inserted)) => {}
            (_, other) => panic!("{other:?}"),
        }
    }
    assert!(failed >= 1);
    let late = writer
        .upsert(Fused {
            k: 99,
            v: Json(Fuse(99)),
        })
        .await;
    assert!(matches!(late, Err(Error::WriterClosed)), "{late:?}");
    tokio::time::timeout(Duration::from_secs(5), writer.shutdown())
        .await
        .expect("shutdown returns after the task stopped");
    db.finish().await;
}

/// On a pool of one connection under sustained writer load, direct calls keep making
/// progress: the writer gives its connection back every `max_hold` and queues for it again.
#[tokio::test]
async fn direct_calls_on_a_small_pool_progress_under_sustained_writer_load() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(HITS).execute(&db.pool).await.unwrap();
    let writer = Hit::writer(
        &db.pool,
        WriterConfig {
            max_hold: Duration::from_millis(20),
            ..WriterConfig::default()
        },
    );
    let load_until = std::time::Instant::now() + Duration::from_millis(1500);
    let loaders: Vec<_> = (0..8)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut calls = 0_u64;
                while std::time::Instant::now() < load_until {
                    writer
                        .upsert(Hit {
                            page: format!("/w{}", i % 4),
                            last: 1,
                            n: 1,
                            first: 1,
                        })
                        .await
                        .unwrap();
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    // Direct calls while the load runs: each waits at most about one hold plus a batch.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut direct = 0;
    let mut slowest = Duration::ZERO;
    while std::time::Instant::now() + Duration::from_millis(200) < load_until {
        let started = std::time::Instant::now();
        Hit {
            page: "/direct".into(),
            last: 1,
            n: 1,
            first: 1,
        }
        .upsert(&db.pool)
        .await
        .unwrap();
        slowest = slowest.max(started.elapsed());
        direct += 1;
    }
    let mut written = 0;
    for loader in loaders {
        written += loader.await.unwrap();
    }
    assert!(written > 100, "the writer's load ran: {written} calls");
    assert!(direct >= 10, "only {direct} direct calls in over a second");
    assert!(
        slowest < Duration::from_millis(500),
        "a direct call waited {slowest:?}"
    );
    writer.shutdown().await;
    db.finish().await;
}
