//! Faults and load: a proxy that drops connections right after the server committed a
//! write, backends terminated mid-run, 64 tasks on 8 hot counters, and PostgreSQL's own ON
//! CONFLICT isolation scenarios replayed step by step on two connections. Every test asserts
//! counts: acknowledged increments ≤ final sum ≤ acknowledged + those reported as
//! may-have-been-applied.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::postgres::{PgPool, PgPoolOptions, PgSslMode};
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, Error, Retry, UpsertOutcome};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use upsert_testkit::TestDb;

use crate::support::{Killer, victim_pool};

#[derive(AtomicUpsert)]
#[upsert(table = "counters")]
struct Counter {
    #[conflict_key]
    name: String,
    #[upsert(add)]
    n: i64,
}

#[derive(AtomicUpsert)]
#[upsert(table = "latest")]
struct Latest {
    #[conflict_key]
    name: String,
    value: i64,
}

const TABLES: &str = "CREATE TABLE counters (name text PRIMARY KEY, n int8 NOT NULL); \
    CREATE TABLE latest (name text PRIMARY KEY, value int8 NOT NULL)";

async fn sum(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(n), 0)::int8 FROM counters")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A TCP proxy to the server that, after every `every`th committed write (an `INSERT`'s
/// `CommandComplete`, then the `ReadyForQuery` that follows the commit), drops the
/// connection instead of forwarding the answer. Returns its port and the count of drops.
async fn dropping_proxy(upstream: SocketAddr, every: u64) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let drops = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let shared = Arc::clone(&drops);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            // Small messages, forwarded one by one: no Nagle delay.
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (drops, writes) = (Arc::clone(&shared), Arc::clone(&writes));
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upstream = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut wrote = false;
                loop {
                    let mut head = [0_u8; 5];
                    if server_read.read_exact(&mut head).await.is_err() {
                        break;
                    }
                    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
                    let mut body = vec![0_u8; len.saturating_sub(4)];
                    if server_read.read_exact(&mut body).await.is_err() {
                        break;
                    }
                    match head[0] {
                        b'C' if body.starts_with(b"INSERT") => wrote = true,
                        b'Z' if wrote => {
                            wrote = false;
                            if writes.fetch_add(1, Ordering::Relaxed) % every == every - 1 {
                                // Committed, and the client never hears of it.
                                drops.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                        _ => {}
                    }
                    if client_write.write_all(&head).await.is_err()
                        || client_write.write_all(&body).await.is_err()
                    {
                        break;
                    }
                }
                upstream.abort();
            });
        }
    });
    (port, drops)
}

/// A pool through the proxy, into the test's schema.
async fn proxied_pool(db: &TestDb, port: u16, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(
            upsert_testkit::connect_options()
                .host("127.0.0.1")
                .port(port)
                .ssl_mode(PgSslMode::Disable)
                .options([("search_path", db.schema.as_str())]),
        )
        .await
        .unwrap()
}

fn upstream() -> SocketAddr {
    let options = upsert_testkit::connect_options();
    (options.get_host(), options.get_port())
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap()
}

#[tokio::test]
async fn lost_answers_after_commit_never_double_count_and_idempotent_calls_retry_through() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    let (port, drops) = dropping_proxy(upstream(), 7).await;
    let pool = proxied_pool(&db, port, 8).await;
    let (acknowledged, maybe) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (pool, acknowledged, maybe) = (pool.clone(), acknowledged.clone(), maybe.clone());
        tasks.push(tokio::spawn(async move {
            // Every 7th commit loses its answer, so a call can lose several in a row: 12 attempts
            // make exhausting them (1 in 7^12) impossible in practice.
            let retry = Retry::default()
                .attempts(12)
                .backoff(Duration::from_millis(1), Duration::from_millis(20));
            for round in 0..150 {
                let counter = Counter {
                    name: format!("k{}", (worker + round) % 4),
                    n: 1,
                };
                match retry.upsert(&pool, &counter).await {
                    Ok(_) => acknowledged.fetch_add(1, Ordering::Relaxed),
                    // `add` is not idempotent: an unknown fate is reported, never retried.
                    Err(e) if e.may_have_been_applied() => maybe.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("untyped failure: {e}"),
                };
                let latest = Latest {
                    name: format!("w{worker}"),
                    value: round,
                };
                // Idempotent: retried through every lost answer.
                if let Err(e) = retry.upsert(&pool, &latest).await {
                    panic!("an idempotent write was not retried through: {e:?}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (acknowledged, maybe) = (
        acknowledged.load(Ordering::Relaxed),
        maybe.load(Ordering::Relaxed),
    );
    let stored = u64::try_from(sum(&db.pool).await).unwrap();
    println!(
        "acknowledged {acknowledged}, may have been applied {maybe}, stored {stored}, connections dropped {}",
        drops.load(Ordering::Relaxed)
    );
    assert!(
        drops.load(Ordering::Relaxed) > 10,
        "the proxy dropped connections"
    );
    assert!(maybe > 0, "some increments ended unknown");
    assert!(acknowledged <= stored && stored <= acknowledged + maybe);
    let latest: Vec<i64> = sqlx::query_scalar("SELECT value FROM latest ORDER BY name")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(latest, vec![149; 8], "every idempotent write landed");
    pool.close().await;
    db.finish().await;
}

#[tokio::test]
async fn backends_terminated_mid_run_leave_typed_errors_exact_sums_and_a_working_pool() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    let pool = victim_pool(&db, "au_fault_victim", 16).await;
    let killer = Killer::start(
        db.pool.clone(),
        "au_fault_victim",
        Duration::from_millis(25),
    );
    let (acknowledged, maybe, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (pool, acknowledged, maybe, failed) = (
            pool.clone(),
            acknowledged.clone(),
            maybe.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let retry = Retry::default()
                .attempts(8)
                .backoff(Duration::from_millis(2), Duration::from_millis(50));
            for round in 0..120 {
                let counter = Counter {
                    name: format!("k{}", (worker + round) % 8),
                    n: 1,
                };
                match retry.upsert(&pool, &counter).await {
                    Ok(_) => acknowledged.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.may_have_been_applied() => maybe.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.is_transient() => failed.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("untyped failure: {e}"),
                };
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let backends_killed = killer.stop().await;
    let (acknowledged, maybe, failed) = (
        acknowledged.load(Ordering::Relaxed),
        maybe.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    let stored = u64::try_from(sum(&db.pool).await).unwrap();
    println!(
        "backends killed {backends_killed}: acknowledged {acknowledged}, may have been applied {maybe}, failed (not applied) {failed}, stored {stored}"
    );
    assert!(backends_killed > 0);
    assert_eq!(acknowledged + maybe + failed, 16 * 120);
    assert!(acknowledged <= stored && stored <= acknowledged + maybe);
    // The pool recovers.
    Counter {
        name: "after".into(),
        n: 1,
    }
    .upsert(&pool)
    .await
    .unwrap();
    pool.close().await;
    db.finish().await;
}

#[tokio::test]
async fn sixty_four_tasks_on_eight_hot_counters_lose_nothing() {
    let db = TestDb::new(16).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..64 {
        let pool = db.pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut micros = hdrhistogram::Histogram::<u64>::new_with_max(60_000_000, 3).unwrap();
            for round in 0..2_000 {
                let at = Instant::now();
                Counter {
                    name: format!("hot{}", (task + round) % 8),
                    n: 1,
                }
                .upsert(&pool)
                .await
                .unwrap();
                micros
                    .record(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX))
                    .unwrap();
            }
            micros
        }));
    }
    let mut all = hdrhistogram::Histogram::<u64>::new_with_max(60_000_000, 3).unwrap();
    for task in tasks {
        all.add(task.await.unwrap()).unwrap();
    }
    let elapsed = started.elapsed();
    let per_key: Vec<i64> = sqlx::query_scalar("SELECT n FROM counters ORDER BY name")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    println!(
        "64 tasks x 2,000 add upserts on 8 keys: {:.1} s, {:.0} ops/s, p50 {} us, p99 {} us, max {} us",
        elapsed.as_secs_f64(),
        128_000.0 / elapsed.as_secs_f64(),
        all.value_at_quantile(0.5),
        all.value_at_quantile(0.99),
        all.max()
    );
    assert_eq!(
        per_key,
        vec![16_000; 8],
        "every increment counted, 0 errors"
    );
    db.finish().await;
}

/// Whether `task` is still waiting after `wait`.
async fn still_blocked<T>(task: &tokio::task::JoinHandle<T>, wait: Duration) -> bool {
    tokio::time::sleep(wait).await;
    !task.is_finished()
}

/// insert-conflict-do-update (1 and 2): a second upsert of a key another transaction is
/// inserting waits; when the first commits it updates, when the first aborts it inserts.
#[tokio::test]
async fn isolation_do_update_waits_for_the_inserter_then_updates_or_inserts() {
    let db = TestDb::new(3).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    for commit in [true, false] {
        sqlx::query("TRUNCATE latest")
            .execute(&db.pool)
            .await
            .unwrap();
        let mut s1 = db.pool.begin().await.unwrap();
        let first = Latest {
            name: "k".into(),
            value: 1,
        };
        assert_eq!(
            first.upsert(&mut *s1).await.unwrap(),
            UpsertOutcome::Inserted
        );
        let pool = db.pool.clone();
        let s2 = tokio::spawn(async move {
            Latest {
                name: "k".into(),
                value: 2,
            }
            .upsert(&pool)
            .await
        });
        assert!(
            still_blocked(&s2, Duration::from_millis(200)).await,
            "s2 waits for s1"
        );
        if commit {
            s1.commit().await.unwrap();
        } else {
            s1.rollback().await.unwrap();
        }
        let outcome = s2.await.unwrap().unwrap();
        let expected = if commit {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Inserted
        };
        assert_eq!(outcome, expected, "commit: {commit}");
        let value: i64 = sqlx::query_scalar("SELECT value FROM latest")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(value, 2);
    }
    db.finish().await;
}

/// insert-conflict-do-update-3 (in spirit): two transactions upsert the same key; the
/// second sees the first's committed row version and adds to it (no lost increment).
#[tokio::test]
async fn isolation_do_update_adds_to_the_committed_version() {
    let db = TestDb::new(3).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    Counter {
        name: "k".into(),
        n: 10,
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    let mut s1 = db.pool.begin().await.unwrap();
    Counter {
        name: "k".into(),
        n: 1,
    }
    .upsert(&mut *s1)
    .await
    .unwrap();
    let pool = db.pool.clone();
    let s2 = tokio::spawn(async move {
        let mut s2 = pool.begin().await.unwrap();
        let outcome = Counter {
            name: "k".into(),
            n: 100,
        }
        .upsert(&mut *s2)
        .await
        .unwrap();
        s2.commit().await.unwrap();
        outcome
    });
    assert!(
        still_blocked(&s2, Duration::from_millis(200)).await,
        "s2 waits for the row lock"
    );
    s1.commit().await.unwrap();
    assert_eq!(s2.await.unwrap(), UpsertOutcome::Updated);
    assert_eq!(sum(&db.pool).await, 111);
    db.finish().await;
}

/// insert-conflict-do-nothing (1 and 2): `insert_or_ignore` of a key another transaction
/// is inserting waits; it is skipped when the first commits and inserts when it aborts.
#[tokio::test]
async fn isolation_do_nothing_waits_then_skips_or_inserts() {
    let db = TestDb::new(3).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    for commit in [true, false] {
        sqlx::query("TRUNCATE latest")
            .execute(&db.pool)
            .await
            .unwrap();
        let mut s1 = db.pool.begin().await.unwrap();
        Latest {
            name: "k".into(),
            value: 1,
        }
        .insert_or_ignore(&mut *s1)
        .await
        .unwrap();
        let pool = db.pool.clone();
        let s2 = tokio::spawn(async move {
            Latest {
                name: "k".into(),
                value: 2,
            }
            .insert_or_ignore(&pool)
            .await
        });
        assert!(
            still_blocked(&s2, Duration::from_millis(200)).await,
            "s2 waits for s1"
        );
        if commit {
            s1.commit().await.unwrap();
        } else {
            s1.rollback().await.unwrap();
        }
        let expected = if commit {
            UpsertOutcome::Skipped
        } else {
            UpsertOutcome::Inserted
        };
        assert_eq!(s2.await.unwrap().unwrap(), expected, "commit: {commit}");
        let value: i64 = sqlx::query_scalar("SELECT value FROM latest")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(value, if commit { 1 } else { 2 });
    }
    db.finish().await;
}

/// Two sessions start the same insert at once, 50 times, with no control of the
/// interleaving: one inserts and the other updates, never a duplicate-key error, batches too.
/// (The controlled replay of insert-conflict-specconflict is below.)
#[tokio::test]
async fn isolation_simultaneous_inserts_of_one_key_resolve_without_errors() {
    let db = TestDb::new(4).await;
    sqlx::raw_sql(TABLES).execute(&db.pool).await.unwrap();
    for round in 0..50 {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|session| {
                let (pool, barrier) = (db.pool.clone(), barrier.clone());
                tokio::spawn(async move {
                    let mut conn = pool.acquire().await.unwrap();
                    barrier.wait().await;
                    let row = Counter {
                        name: format!("r{round}"),
                        n: session + 1,
                    };
                    if round % 2 == 0 {
                        row.upsert(&mut *conn)
                            .await
                            .map(|o| u64::from(o == UpsertOutcome::Inserted))
                    } else {
                        Counter::upsert_many(&mut *conn, &[row])
                            .await
                            .map(|o| o.inserted)
                    }
                })
            })
            .collect();
        let mut inserted = 0;
        for task in tasks {
            inserted += task.await.unwrap().unwrap_or_else(|e: Error| panic!("{e}"));
        }
        assert_eq!(inserted, 1, "round {round}");
    }
    assert_eq!(sum(&db.pool).await, 50 * 3);
    db.finish().await;
}

/// The index predicate of PostgreSQL's insert-conflict-specconflict spec: each call takes
/// a transaction-level advisory lock chosen by `spec.session`, so a controller connection
/// can stop a session before its conflict probe (lock 3) and again before its index entry
/// (lock 2), after the speculative tuple is in the heap.
const SPECCONFLICT: &str = "
CREATE FUNCTION blurt_and_lock(text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock(current_setting('spec.session')::int, 1) THEN
        PERFORM pg_advisory_xact_lock(current_setting('spec.session')::int, 2);
    ELSE
        PERFORM pg_advisory_xact_lock(current_setting('spec.session')::int, 3);
    END IF;
    RETURN $1;
END;$$;
CREATE TABLE upserttest (key text, data text);
CREATE UNIQUE INDEX ON upserttest (key) WHERE blurt_and_lock(key) IS NOT NULL;";

#[derive(AtomicUpsert, Clone)]
#[upsert(
    table = "upserttest",
    conflict_where = "blurt_and_lock(key) IS NOT NULL"
)]
struct Spec {
    #[conflict_key]
    key: String,
    data: String,
}

/// Advisory-lock keys of the two sessions, unlikely to meet another test's.
const SESSIONS: [i32; 2] = [7301, 7302];

/// Waits until session `session` is blocked on its advisory lock `lock`, as the isolation
/// tester waits for a step to block.
async fn wait_on_lock(pool: &PgPool, session: i32, lock: i32) {
    let started = Instant::now();
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
             AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2)",
        )
        .bind(session)
        .bind(lock)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "session {session} never waited on lock {lock}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One session of the spec: its own connection, `spec.session` set, a transaction that
/// reports on `upserted` once its upsert returned and, given `commit`, commits only when told;
/// returns whether its row was inserted.
fn spec_session(
    pool: &PgPool,
    index: usize,
    batch: bool,
    upserted: tokio::sync::mpsc::UnboundedSender<usize>,
    commit: Option<tokio::sync::oneshot::Receiver<()>>,
) -> tokio::task::JoinHandle<bool> {
    let pool = pool.clone();
    tokio::spawn(async move {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("SELECT set_config('spec.session', $1, false)")
            .bind(SESSIONS[index].to_string())
            .execute(&mut *conn)
            .await
            .unwrap();
        let row = Spec {
            key: "k1".into(),
            data: format!("s{}", index + 1),
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let inserted = if batch {
            Spec::upsert_many(&mut *tx, std::slice::from_ref(&row))
                .await
                .unwrap()
                .inserted
                == 1
        } else {
            row.upsert(&mut *tx).await.unwrap() == UpsertOutcome::Inserted
        };
        upserted.send(index).unwrap();
        if let Some(commit) = commit {
            commit.await.unwrap();
        }
        tx.commit().await.unwrap();
        inserted
    })
}

async fn unlock(controller: &mut sqlx::PgConnection, session: usize, lock: i32) {
    let released: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1, $2)")
        .bind(SESSIONS[session])
        .bind(lock)
        .fetch_one(controller)
        .await
        .unwrap();
    assert!(released);
}

async fn spec_rows(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as("SELECT key, data FROM upserttest ORDER BY data")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// insert-conflict-specconflict, its three permutations, on `upsert` and on `upsert_many`:
/// both sessions pass the conflict probe, both put a speculative tuple in the heap, and the
/// one that finishes its index entry second finds the conflict, kills its speculative tuple
/// and updates instead. No duplicate-key error, exactly one row, exactly one `Inserted`.
#[tokio::test]
async fn isolation_speculative_insertion_conflict_updates_instead_of_failing() {
    let db = TestDb::new(6).await;
    sqlx::raw_sql(SPECCONFLICT).execute(&db.pool).await.unwrap();
    let mut controller = db.pool.acquire().await.unwrap();
    // (permutation, session that finishes first, whether the second waits for a commit)
    for batch in [false, true] {
        for (permutation, first, commits) in [(1, 1, false), (2, 0, false), (3, 0, true)] {
            let context = format!("permutation {permutation}, batch: {batch}");
            sqlx::query("TRUNCATE upserttest")
                .execute(&mut *controller)
                .await
                .unwrap();
            for session in SESSIONS {
                for lock in 1..=3 {
                    sqlx::query("SELECT pg_advisory_lock($1, $2)")
                        .bind(session)
                        .bind(lock)
                        .execute(&mut *controller)
                        .await
                        .unwrap();
                }
            }
            let mut commit = [None, None];
            let (upserted, mut done) = tokio::sync::mpsc::unbounded_channel();
            let sessions: Vec<_> = (0..2)
                .map(|index| {
                    let receive = commits.then(|| {
                        let (send, receive) = tokio::sync::oneshot::channel();
                        commit[index] = Some(send);
                        receive
                    });
                    spec_session(&db.pool, index, batch, upserted.clone(), receive)
                })
                .collect();
            // Both sessions block before their conflict probe.
            for session in SESSIONS {
                wait_on_lock(&db.pool, session, 3).await;
            }
            for session in 0..2 {
                unlock(&mut controller, session, 1).await;
            }
            for session in 0..2 {
                unlock(&mut controller, session, 3).await;
            }
            // Both probed, found nothing, and wait before their index entry.
            for session in SESSIONS {
                wait_on_lock(&db.pool, session, 2).await;
            }
            assert!(spec_rows(&db.pool).await.is_empty(), "{context}");
            let second = 1 - first;
            unlock(&mut controller, first, 2).await;
            assert_eq!(done.recv().await, Some(first), "{context}");
            if commits {
                // The first finished its insert but has not committed: nothing is visible,
                // and the second, once let go, waits on the first's transaction.
                assert!(spec_rows(&db.pool).await.is_empty(), "{context}");
                unlock(&mut controller, second, 2).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                assert!(done.try_recv().is_err(), "{context}: the second waits");
                commit[first].take().unwrap().send(()).unwrap();
                assert_eq!(done.recv().await, Some(second), "{context}");
                commit[second].take().unwrap().send(()).unwrap();
            } else {
                unlock(&mut controller, second, 2).await;
                assert_eq!(done.recv().await, Some(second), "{context}");
            }
            let mut inserted = [false; 2];
            for (index, session) in sessions.into_iter().enumerate() {
                inserted[index] = session.await.unwrap();
            }
            assert!(
                inserted[first] && !inserted[second],
                "{context}: {inserted:?}"
            );
            assert_eq!(
                spec_rows(&db.pool).await,
                vec![("k1".to_owned(), format!("s{}", second + 1))],
                "{context}: the second session's update is the row"
            );
        }
    }
    drop(controller);
    db.finish().await;
}
