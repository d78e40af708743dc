//! A server restart in the middle of a run (its own server: the others' tests must not see
//! it). Every call ends Ok or with a typed error; acknowledged increments ≤ the final sum ≤
//! acknowledged + those reported as may-have-been-applied; the pool recovers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use atomic_upsert::sqlx::postgres::PgPoolOptions;
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, Retry};

#[derive(AtomicUpsert)]
#[upsert(table = "counters")]
struct Counter {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_run_loses_nothing_and_the_pool_recovers() {
    let mut server = upsert_testkit::Dedicated::start();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&server.url)
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE counters (name text PRIMARY KEY, n int8 NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let (acknowledged, maybe, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (pool, acknowledged, maybe, failed) = (
            pool.clone(),
            acknowledged.clone(),
            maybe.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let retry = Retry::default()
                .attempts(30)
                .backoff(Duration::from_millis(10), Duration::from_millis(250))
                .deadline(Duration::from_secs(30));
            for round in 0..150 {
                let counter = Counter {
                    name: format!("k{}", (worker + round) % 4),
                    n: 1,
                };
                match retry.upsert(&pool, &counter).await {
                    Ok(_) => acknowledged.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.may_have_been_applied() => maybe.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.is_transient() => failed.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("untyped failure: {e}"),
                };
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let (acknowledged, maybe, failed) = (
        acknowledged.load(Ordering::Relaxed),
        maybe.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    let stored: i64 = sqlx::query_scalar("SELECT coalesce(sum(n), 0)::int8 FROM counters")
        .fetch_one(&pool)
        .await
        .unwrap();
    let stored = u64::try_from(stored).unwrap();
    println!(
        "restart mid-run: acknowledged {acknowledged}, may have been applied {maybe}, failed (not applied) {failed}, stored {stored}"
    );
    assert_eq!(acknowledged + maybe + failed, 8 * 150);
    assert!(acknowledged <= stored && stored <= acknowledged + maybe);
    Counter {
        name: "after".into(),
        n: 1,
    }
    .upsert(&pool)
    .await
    .unwrap();
    pool.close().await;
}
