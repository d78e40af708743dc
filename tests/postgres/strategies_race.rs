//! Counters and version guards under concurrency, each beside the naive read-modify-write
//! on the same workload, which must show the race (lost increments, versions going back).

use std::sync::Arc;
use std::time::Duration;

use atomic_upsert::sqlx::{self, PgConnection, PgPool};
use atomic_upsert::{AtomicUpsert, UpsertOutcome};
use upsert_testkit::TestDb;

const TASKS: usize = 16;
const CALLS: usize = 250;
const KEYS: i32 = 4;

#[derive(AtomicUpsert)]
#[upsert(table = "counter")]
struct Counter {
    #[conflict_key]
    k: i32,
    #[upsert(add)]
    n: i64,
}

/// The unsafe pattern: read the count, then write read + 1 (a pause stands for the work
/// a real handler does between the two).
async fn naive_increment(conn: &mut PgConnection, k: i32) -> Result<(), sqlx::Error> {
    let n: Option<i64> = sqlx::query_scalar("SELECT n FROM counter WHERE k = $1")
        .bind(k)
        .fetch_optional(&mut *conn)
        .await?;
    tokio::time::sleep(Duration::from_micros(200)).await;
    match n {
        Some(n) => {
            sqlx::query("UPDATE counter SET n = $2 WHERE k = $1")
                .bind(k)
                .bind(n + 1)
                .execute(&mut *conn)
                .await?;
        }
        None => {
            sqlx::query("INSERT INTO counter (k, n) VALUES ($1, 1)")
                .bind(k)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Runs `TASKS` tasks of `CALLS` calls each, task `t`'s call `i` on key `(t + i) % KEYS`;
/// returns the error messages.
async fn hammer<F, Fut>(pool: &PgPool, call: F) -> Vec<String>
where
    F: Fn(PgConnection, i32, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (PgConnection, Result<(), String>)> + Send,
{
    let call = Arc::new(call);
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let mut conn = pool.acquire().await.unwrap().detach();
        let (call, barrier) = (Arc::clone(&call), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            barrier.wait().await;
            for i in 0..CALLS {
                let key = i32::try_from((task + i) % KEYS as usize).unwrap();
                let (back, result) = call(conn, key, task * CALLS + i).await;
                conn = back;
                if let Err(error) = result {
                    errors.push(error);
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    errors
}

async fn total(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(n), 0)::int8 FROM counter")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_add_upserts_never_lose_an_increment() {
    let db = TestDb::new(u32::try_from(TASKS).unwrap() + 1).await;
    sqlx::query("CREATE TABLE counter (k int4 PRIMARY KEY, n int8 NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let sent = i64::try_from(TASKS * CALLS).unwrap();

    // Naive: increments are lost, and first writers collide on the insert.
    let naive_errors = hammer(&db.pool, |mut conn, k, _| async move {
        let result = naive_increment(&mut conn, k)
            .await
            .map_err(|e| e.to_string());
        (conn, result)
    })
    .await;
    let naive_total = total(&db.pool).await;
    let lost = sent - naive_total - i64::try_from(naive_errors.len()).unwrap();
    eprintln!(
        "naive: {naive_total} counted of {sent} sent, {} errors, {lost} increments lost",
        naive_errors.len()
    );
    assert!(
        lost > 0,
        "the naive pattern must lose increments on this workload"
    );

    sqlx::query("TRUNCATE counter")
        .execute(&db.pool)
        .await
        .unwrap();
    let errors = hammer(&db.pool, |mut conn, k, _| async move {
        let result = Counter { k, n: 1 }
            .upsert(&mut conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string());
        (conn, result)
    })
    .await;
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(total(&db.pool).await, sent, "every increment counted");
    let per_key: Vec<i64> = sqlx::query_scalar("SELECT n FROM counter ORDER BY k")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(per_key, vec![sent / i64::from(KEYS); 4]);
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "state")]
struct State {
    #[conflict_key]
    k: i32,
    #[upsert(version)]
    v: i64,
    payload: String,
}

/// Version `seq`, sent in a scrambled order so that later calls often carry older versions.
fn version_of(seq: usize) -> i64 {
    i64::try_from((seq * 7919) % (TASKS * CALLS)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_version_guards_keep_the_highest_version() {
    let db = TestDb::new(u32::try_from(TASKS).unwrap() + 1).await;
    sqlx::query("CREATE TABLE state (k int4 PRIMARY KEY, v int8 NOT NULL, payload text NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    // The highest version sent per key, computed client-side.
    let mut highest = vec![-1_i64; KEYS as usize];
    for task in 0..TASKS {
        for i in 0..CALLS {
            let key = (task + i) % KEYS as usize;
            highest[key] = highest[key].max(version_of(task * CALLS + i));
        }
    }
    let stored = |pool: PgPool| async move {
        sqlx::query_as::<_, (i64, String)>("SELECT v, payload FROM state ORDER BY k")
            .fetch_all(&pool)
            .await
            .unwrap()
    };

    // Naive: read the version, then write if ours is newer; a slower writer with an older
    // version overwrites a newer one that landed in between.
    let naive_errors = hammer(&db.pool, |mut conn, k, seq| async move {
        let v = version_of(seq);
        let result = async {
            let stored: Option<i64> = sqlx::query_scalar("SELECT v FROM state WHERE k = $1")
                .bind(k)
                .fetch_optional(&mut conn)
                .await?;
            tokio::time::sleep(Duration::from_micros(200)).await;
            match stored {
                Some(s) if s >= v => {}
                Some(_) => {
                    sqlx::query("UPDATE state SET v = $2, payload = $3 WHERE k = $1")
                        .bind(k)
                        .bind(v)
                        .bind(format!("v{v}"))
                        .execute(&mut conn)
                        .await?;
                }
                None => {
                    sqlx::query("INSERT INTO state (k, v, payload) VALUES ($1, $2, $3)")
                        .bind(k)
                        .bind(v)
                        .bind(format!("v{v}"))
                        .execute(&mut conn)
                        .await?;
                }
            }
            Ok::<(), sqlx::Error>(())
        }
        .await
        .map_err(|e| e.to_string());
        (conn, result)
    })
    .await;
    let naive: Vec<i64> = stored(db.pool.clone())
        .await
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    eprintln!(
        "naive: final versions {naive:?}, highest sent {highest:?}, {} errors",
        naive_errors.len()
    );
    assert!(
        naive != highest || !naive_errors.is_empty(),
        "the naive pattern must go back in version or fail on this workload"
    );

    sqlx::query("TRUNCATE state")
        .execute(&db.pool)
        .await
        .unwrap();
    let errors = hammer(&db.pool, |mut conn, k, seq| async move {
        let v = version_of(seq);
        let result = State {
            k,
            v,
            payload: format!("v{v}"),
        }
        .upsert(&mut conn)
        .await
        .map(|outcome| {
            assert!(matches!(
                outcome,
                UpsertOutcome::Inserted | UpsertOutcome::Updated | UpsertOutcome::Skipped
            ));
        })
        .map_err(|e| e.to_string());
        (conn, result)
    })
    .await;
    assert_eq!(errors, Vec::<String>::new());
    let atomic = stored(db.pool.clone()).await;
    let expected: Vec<(i64, String)> = highest.iter().map(|v| (*v, format!("v{v}"))).collect();
    assert_eq!(
        atomic, expected,
        "the highest version sent, with its payload"
    );
    db.finish().await;
}
