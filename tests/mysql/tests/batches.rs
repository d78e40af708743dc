//! `upsert_many` on MariaDB beyond the conformance suite: the lock order (two batches over
//! the same keys in opposite orders, which deadlock when sent as given) and the errors a
//! row of a batch can meet (1062, 1452, 1406), each typed, named by its input index, with
//! nothing written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atomic_upsert::sqlx::{self, Executor as _, Row as _};
use atomic_upsert::{AtomicUpsert, Error};
use upsert_testkit::mysql::MyDb;

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "counters")]
struct Counter {
    #[conflict_key]
    id: i64,
    #[upsert(add)]
    hits: i64,
}

const KEYS: i64 = 200;
const ROUNDS: usize = 60;
/// How many runs of `ROUNDS` the naive batches get to show a deadlock.
const ATTEMPTS: usize = 5;

/// Two tasks each send `ROUNDS` batches over the same `KEYS` keys, one ascending and one
/// descending, and count the deadlocks they meet (each a transient `40001`). `send` is the
/// batch call.
async fn opposite_batches<F, Fut>(db: &MyDb, send: F) -> (usize, i64)
where
    F: Fn(sqlx::MySqlPool, Vec<Counter>) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = Result<(), Error>> + Send,
{
    db.pool.execute("DELETE FROM counters").await.unwrap();
    let deadlocks = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for descending in [false, true] {
        let (pool, deadlocks, barrier) = (db.pool.clone(), deadlocks.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut rows: Vec<Counter> = (0..KEYS).map(|id| Counter { id, hits: 1 }).collect();
            if descending {
                rows.reverse();
            }
            for _ in 0..ROUNDS {
                barrier.wait().await;
                match send(pool.clone(), rows.clone()).await {
                    Ok(()) => {}
                    Err(error) => {
                        assert!(
                            matches!(&error, Error::Database { code, .. } if code == "40001")
                                && error.is_transient(),
                            "{error:?}"
                        );
                        deadlocks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(hits), 0) AS SIGNED) FROM counters")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    (deadlocks.load(Ordering::Relaxed), total)
}

/// The same chunk statement the derive sends, the rows bound in the order given.
async fn as_given(pool: sqlx::MySqlPool, rows: Vec<Counter>) -> Result<(), Error> {
    let mut sql = String::from("INSERT INTO counters (id, hits) VALUES ");
    for (index, _) in rows.iter().enumerate() {
        sql.push_str(if index == 0 { "(?, ?)" } else { ", (?, ?)" });
    }
    sql.push_str(" ON DUPLICATE KEY UPDATE hits = hits + VALUES(hits)");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in &rows {
        query = query.bind(row.id).bind(row.hits);
    }
    query.execute(&pool).await.map(drop).map_err(Error::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_over_the_same_keys_in_opposite_orders_never_deadlock() {
    let db = MyDb::new(4).await;
    db.pool
        .execute("CREATE TABLE counters (id bigint PRIMARY KEY, hits bigint NOT NULL)")
        .await
        .unwrap();
    // The workload can show a deadlock: the same statement with the rows as given. (Most
    // runs show 36-50 in 60 pairs; a loaded machine can schedule a whole run without one,
    // so up to `ATTEMPTS` runs are given to show it.)
    let mut naive = 0;
    for _ in 0..ATTEMPTS {
        let (deadlocks, naive_total) = opposite_batches(&db, as_given).await;
        assert_eq!(naive_total, (2 * ROUNDS - deadlocks) as i64 * KEYS);
        naive += deadlocks;
        if naive > 0 {
            break;
        }
    }
    assert!(
        naive > 0,
        "the rows as given never deadlocked in {ATTEMPTS} runs of {ROUNDS} rounds x 2"
    );
    // The derive sorts an integer key: no deadlock, every increment counted.
    let (derived, total) = opposite_batches(&db, |pool, rows| async move {
        Counter::upsert_many(&pool, &rows).await.map(drop)
    })
    .await;
    assert_eq!(
        derived, 0,
        "the derive's batches deadlocked {derived} times"
    );
    assert_eq!(total, 2 * ROUNDS as i64 * KEYS);
    eprintln!(
        "deadlocks in {} batch pairs: as given {naive}, derive 0",
        ROUNDS
    );
}

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "accounts")]
struct Account {
    #[conflict_key]
    id: i64,
    email: String,
    team: i64,
}

fn account(id: i64, email: &str, team: i64) -> Account {
    Account {
        id,
        email: email.into(),
        team,
    }
}

async fn stored(db: &MyDb) -> Vec<(i64, String, i64)> {
    sqlx::query("SELECT id, email, team FROM accounts ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[tokio::test]
async fn a_failing_row_of_a_batch_is_typed_named_and_writes_nothing() {
    let db = MyDb::new(2).await;
    db.pool
        .execute("CREATE TABLE teams (id bigint PRIMARY KEY)")
        .await
        .unwrap();
    db.pool
        .execute("INSERT INTO teams VALUES (1)")
        .await
        .unwrap();
    db.pool
        .execute(
            "CREATE TABLE accounts (id bigint PRIMARY KEY, email varchar(20) NOT NULL UNIQUE, \
             team bigint NOT NULL, FOREIGN KEY (team) REFERENCES teams (id))",
        )
        .await
        .unwrap();
    Account::upsert_many(&db.pool, &[account(1, "a@x", 1), account(2, "b@x", 1)])
        .await
        .unwrap();
    let before = stored(&db).await;
    let fresh = |id| account(id, &format!("{id}@x"), 1);

    // 1062: row 2 updates account 1 to account 2's email.
    let rows = [fresh(10), fresh(11), account(1, "b@x", 1), fresh(12)];
    let error = Account::upsert_many(&db.pool, &rows).await.unwrap_err();
    let Error::Row { index, source } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*index, 2, "{error}");
    assert!(
        matches!(**source, Error::UniqueViolation { ref constraint, .. } if constraint.as_deref() == Some("email")),
        "{source:?}"
    );
    assert_eq!(stored(&db).await, before);

    // 1452: row 1 names a team that does not exist.
    let rows = [fresh(10), account(11, "11@x", 9), fresh(12)];
    let error = Account::upsert_many(&db.pool, &rows).await.unwrap_err();
    assert!(
        matches!(&error, Error::Row { index: 1, source } if matches!(**source, Error::ForeignKeyViolation { .. })),
        "{error:?}"
    );
    assert_eq!(stored(&db).await, before);

    // 1406: row 0 is too long for `varchar(20)` (strict mode).
    let rows = [account(10, &"x".repeat(40), 1), fresh(11)];
    let error = Account::upsert_many(&db.pool, &rows).await.unwrap_err();
    assert!(
        matches!(&error, Error::Row { index: 0, source } if matches!(&**source, Error::InvalidValue { code, .. } if code == "1406")),
        "{error:?}"
    );
    assert_eq!(stored(&db).await, before);

    // The index is the input's, also when the batch is written in key order.
    let rows = [fresh(30), fresh(20), account(25, "25@x", 9), fresh(10)];
    let error = Account::upsert_many(&db.pool, &rows).await.unwrap_err();
    assert!(matches!(&error, Error::Row { index: 2, .. }), "{error:?}");
    assert_eq!(stored(&db).await, before);

    // The pool is still usable, and the same calls on the caller's transaction leave it
    // usable too.
    let mut tx = db.pool.begin().await.unwrap();
    let error = Account::upsert_many(&mut *tx, &[fresh(40), account(41, "41@x", 9)])
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Row { index: 1, .. }), "{error:?}");
    Account::upsert_many(&mut *tx, &[fresh(42)]).await.unwrap();
    tx.commit().await.unwrap();
    let mut after = before.clone();
    after.push((42, "42@x".into(), 1));
    assert_eq!(stored(&db).await, after);
}
