//! The core's MySQL statements (`upsert_core::mysql::statements`) on a real MariaDB, bound
//! by hand: the outcome each statement reports (`LAST_INSERT_ID` marks for one row, the
//! session counters for a batch) against what happened; a batch against the same rows
//! applied one by one, on random data with repeated keys; and the seed's race on 16
//! connections, where the naive pattern must fail and the statement must be exact.

use std::sync::Arc;

use sqlx::mysql::{MySqlArguments, MySqlPool, MySqlQueryResult};
use sqlx::{Executor as _, MySql as Db, Row as _};
use upsert_core::mysql::statements::{self, COUNTS, HELD, UPDATED};
use upsert_core::{ConflictTarget, Model, Role, Strategy, Table};
use upsert_testkit::Rng;
use upsert_testkit::mysql::MyDb;

type Query<'q> = sqlx::query::Query<'q, Db, MySqlArguments>;

/// What a single-row statement reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Inserted,
    Updated,
    Held,
}

fn outcome(done: &MySqlQueryResult) -> Outcome {
    match done.last_insert_id() {
        UPDATED => Outcome::Updated,
        HELD => Outcome::Held,
        _ => Outcome::Inserted,
    }
}

fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

/// `stats`: the seed's counter, a high-water mark, a kept-first value and a version.
fn counter_model(version: bool) -> Model<'static> {
    let mut fields = vec![
        ("stats_type", Role::Key),
        ("runs", Role::Combine(Strategy::Add)),
        ("peak", Role::Combine(Strategy::Greatest)),
        ("note", Role::Combine(Strategy::Coalesce)),
        ("first", Role::InsertOnly),
    ];
    if version {
        fields.push(("version", Role::Version));
    }
    Model::new(
        Table {
            schema: None,
            name: "stats",
        },
        ConflictTarget::Keys { predicate: None },
        fields,
        None,
        false,
    )
}

const STATS: &str = "CREATE TABLE stats (stats_type varchar(40) PRIMARY KEY, runs bigint NOT NULL, \
     peak bigint, note varchar(40), first varchar(40), version bigint NOT NULL DEFAULT 0)";

/// A row of `stats`.
#[derive(Debug, Clone, PartialEq)]
struct Stat {
    key: String,
    runs: i64,
    peak: Option<i64>,
    note: Option<String>,
    first: Option<String>,
    version: i64,
}

impl Stat {
    fn random(rng: &mut Rng, keys: u64) -> Stat {
        Stat {
            key: format!("k{}", rng.below(keys)),
            runs: i64::from(rng.int(5)),
            peak: rng.maybe(50),
            note: rng.text(4),
            first: rng.text(4),
            version: i64::try_from(rng.below(6)).unwrap_or(0),
        }
    }

    fn bind<'q>(&'q self, query: Query<'q>, version: bool) -> Query<'q> {
        let query = query
            .bind(&self.key)
            .bind(self.runs)
            .bind(self.peak)
            .bind(&self.note)
            .bind(&self.first);
        if version {
            query.bind(self.version)
        } else {
            query
        }
    }
}

async fn rows(pool: &MySqlPool) -> Vec<String> {
    sqlx::query(
        "SELECT CONCAT_WS(',', stats_type, runs, IFNULL(peak, 'null'), IFNULL(note, 'null'), \
         IFNULL(first, 'null'), version) FROM stats ORDER BY stats_type",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect()
}

#[tokio::test]
async fn one_row_reports_inserted_updated_and_held() {
    let db = MyDb::new(2).await;
    db.pool.execute(STATS).await.unwrap();
    let model = counter_model(true);
    let upsert = statements::upsert(&model);
    let ignore = statements::insert_or_ignore(&model);
    let row = |runs, version| Stat {
        key: "ytd".into(),
        runs,
        peak: Some(runs),
        note: None,
        first: Some(format!("v{version}")),
        version,
    };
    let send = async |text: &str, stat: Stat| {
        let done = stat
            .bind(sqlx::query(sql(text.to_owned())), true)
            .execute(&db.pool)
            .await
            .unwrap();
        outcome(&done)
    };
    assert_eq!(send(&upsert, row(1, 1)).await, Outcome::Inserted);
    assert_eq!(send(&upsert, row(2, 2)).await, Outcome::Updated);
    // A stale version: held back, nothing written.
    assert_eq!(send(&upsert, row(5, 1)).await, Outcome::Held);
    // The same version: held back too (the guard wants a greater one).
    assert_eq!(send(&upsert, row(5, 2)).await, Outcome::Held);
    assert_eq!(send(&ignore, row(7, 9)).await, Outcome::Held);
    assert_eq!(rows(&db.pool).await, ["ytd,3,2,null,v1,2"]);
    // An update that changes nothing still reports Updated (CLIENT_FOUND_ROWS makes its
    // affected-row count 1, like an insert's: the mark tells them apart).
    let unguarded = statements::upsert(&counter_model(false));
    let zero = Stat {
        key: "ytd".into(),
        runs: 0,
        peak: None,
        note: None,
        first: None,
        version: 0,
    };
    let done = zero
        .bind(sqlx::query(sql(unguarded)), false)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    assert_eq!(outcome(&done), Outcome::Updated);
    assert_eq!(rows(&db.pool).await, ["ytd,3,2,null,v1,2"]);
}

#[tokio::test]
async fn an_auto_increment_id_is_no_mark() {
    let db = MyDb::new(2).await;
    db.pool
        .execute(
            "CREATE TABLE stats (id bigint AUTO_INCREMENT PRIMARY KEY, stats_type varchar(40) UNIQUE, \
             runs bigint NOT NULL, peak bigint, note varchar(40), first varchar(40), version bigint NOT NULL DEFAULT 0)",
        )
        .await
        .unwrap();
    let model = counter_model(false);
    let upsert = statements::upsert(&model);
    let mut rng = Rng(7);
    for expected in [Outcome::Inserted, Outcome::Updated, Outcome::Updated] {
        let mut stat = Stat::random(&mut rng, 1);
        stat.key = "one".into();
        let done = stat
            .bind(sqlx::query(sql(upsert.clone())), false)
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(outcome(&done), expected, "{done:?}");
    }
}

/// Applies `batch` one row at a time with the single-row statement; returns the outcomes.
async fn one_by_one(pool: &MySqlPool, model: &Model<'_>, batch: &[Stat]) -> Vec<Outcome> {
    let upsert = statements::upsert(model);
    let version = model.guard.version.is_some();
    let mut outcomes = Vec::new();
    for stat in batch {
        let done = stat
            .bind(sqlx::query(sql(upsert.clone())), version)
            .execute(pool)
            .await
            .unwrap();
        outcomes.push(outcome(&done));
    }
    outcomes
}

/// Applies `batch` by the batch statements, largest chunk first, in one transaction;
/// returns (inserted, updated, held).
async fn batched(pool: &MySqlPool, model: &Model<'_>, batch: &[Stat]) -> (u64, u64, u64) {
    let version = model.guard.version.is_some();
    let sizes = statements::chunk_rows(model);
    let mut tx = pool.begin().await.unwrap();
    let (mut updated, mut held) = (0, 0);
    let mut rest = batch;
    while !rest.is_empty() {
        let size = *sizes.iter().find(|size| **size <= rest.len()).unwrap();
        let (part, later) = rest.split_at(size);
        let text = statements::upsert_many(model, size);
        let mut query = sqlx::query(sql(text));
        for stat in part {
            query = stat.bind(query, version);
        }
        query.execute(&mut *tx).await.unwrap();
        let counts = sqlx::query(COUNTS).fetch_one(&mut *tx).await.unwrap();
        updated += u64::try_from(counts.get::<i64, _>(0)).unwrap();
        held += u64::try_from(counts.get::<i64, _>(1)).unwrap();
        rest = later;
    }
    tx.commit().await.unwrap();
    let total = batch.len() as u64;
    (total - updated - held, updated, held)
}

#[tokio::test]
async fn batches_equal_their_rows_one_by_one_on_random_data() {
    let mut rng = Rng(0x5eed_0025);
    for round in 0..16 {
        let version = round % 2 == 1;
        let model = counter_model(version);
        let keys = 1 + rng.below(40);
        let seed: Vec<Stat> = (0..rng.below(20))
            .map(|_| Stat::random(&mut rng, keys))
            .collect();
        let batch: Vec<Stat> = (0..rng.below(400))
            .map(|_| Stat::random(&mut rng, keys))
            .collect();

        let expected = MyDb::new(1).await;
        expected.pool.execute(STATS).await.unwrap();
        one_by_one(&expected.pool, &model, &seed).await;
        let outcomes = one_by_one(&expected.pool, &model, &batch).await;
        let count = |o: Outcome| outcomes.iter().filter(|x| **x == o).count() as u64;
        let want = (
            count(Outcome::Inserted),
            count(Outcome::Updated),
            count(Outcome::Held),
        );

        let got = MyDb::new(1).await;
        got.pool.execute(STATS).await.unwrap();
        one_by_one(&got.pool, &model, &seed).await;
        assert_eq!(
            batched(&got.pool, &model, &batch).await,
            want,
            "round {round}: counts"
        );
        assert_eq!(
            rows(&got.pool).await,
            rows(&expected.pool).await,
            "round {round}: rows"
        );
    }
}

/// The seed's race: 16 tasks add 1 to each of 40 fresh keys, meeting before each key.
async fn race<F, Fut>(job: F) -> (usize, Vec<(String, i64)>)
where
    F: Fn(MySqlPool, String) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    const WORKERS: usize = 16;
    let db = MyDb::new(WORKERS as u32).await;
    db.pool.execute(STATS).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(WORKERS));
    let mut handles = Vec::new();
    for _ in 0..WORKERS {
        let (pool, barrier, job) = (db.pool.clone(), Arc::clone(&barrier), job.clone());
        handles.push(tokio::spawn(async move {
            let mut failed = 0;
            for key in 0..40 {
                barrier.wait().await;
                if job(pool.clone(), format!("key-{key:02}")).await.is_err() {
                    failed += 1;
                }
            }
            failed
        }));
    }
    let mut failed = 0;
    for handle in handles {
        failed += handle.await.unwrap();
    }
    let rows = sqlx::query_as("SELECT stats_type, runs FROM stats ORDER BY stats_type")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    (failed, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_race_is_exact_where_the_naive_pattern_fails() {
    let (failed, rows) = race(|pool, key| async move {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let found: Option<i64> = sqlx::query_scalar("SELECT runs FROM stats WHERE stats_type = ?")
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        tokio::task::yield_now().await;
        let statement = if found.is_some() {
            "UPDATE stats SET runs = runs + 1 WHERE stats_type = ?"
        } else {
            "INSERT INTO stats (stats_type, runs) VALUES (?, 1)"
        };
        sqlx::query(statement)
            .bind(&key)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .await;
    let lost: i64 = rows.iter().map(|(_, runs)| 16 - runs).sum();
    assert!(failed > 0, "the naive pattern must fail on this workload");
    assert_eq!(
        lost,
        i64::try_from(failed).unwrap(),
        "each failure lost its increment"
    );

    let model = counter_model(false);
    let upsert = Arc::new(statements::upsert(&model));
    let (failed, rows) = race(move |pool, key| {
        let upsert = Arc::clone(&upsert);
        async move {
            let stat = Stat {
                key,
                runs: 1,
                peak: None,
                note: None,
                first: None,
                version: 0,
            };
            stat.bind(sqlx::query(sql(upsert.to_string())), false)
                .execute(&pool)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    })
    .await;
    assert_eq!(failed, 0, "the statement: no error");
    assert_eq!(rows.len(), 40);
    assert!(
        rows.iter().all(|(_, runs)| *runs == 16),
        "exact sums: {rows:?}"
    );
}
