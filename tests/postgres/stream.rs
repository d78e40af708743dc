//! Streaming imports: the same table and counts as `upsert_many` on the same rows (keys
//! repeated across chunks fold one by one), progress reported, all or nothing.

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BatchOutcome, Error};
use futures_util::stream;
use upsert_testkit::TestDb;

use crate::support::{Rng, snapshot};

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "readings")]
struct Reading {
    #[conflict_key]
    sensor: String,
    value: i32,
    #[upsert(add)]
    count: i64,
    #[upsert(insert_only)]
    first: i32,
    note: String,
}

const READINGS: &str = "DROP TABLE IF EXISTS readings; CREATE TABLE readings (sensor text PRIMARY KEY, \
    value int4 NOT NULL CHECK (value >= 0), count int8 NOT NULL, first int4 NOT NULL, note text NOT NULL)";

fn readings(rng: &mut Rng, rows: usize, keys: u64) -> Vec<Reading> {
    (0..rows)
        .map(|i| {
            let value = rng.int(1000);
            Reading {
                sensor: format!("s{}", rng.below(keys)),
                value,
                count: 1,
                first: value,
                // Long enough that 60,000 rows span several 64 KiB COPY chunks.
                note: format!("{i:>60}"),
            }
        })
        .collect()
}

#[tokio::test]
async fn a_stream_equals_upsert_many_across_chunks_and_reports_progress() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0x57_4EA4);
    let seed = readings(&mut rng, 500, 3000);
    let rows = readings(&mut rng, 60_000, 3000);

    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    Reading::upsert_many(&db.pool, &seed).await.unwrap();
    let expected = Reading::upsert_many(&db.pool, &rows).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let expected_rows = snapshot(&mut conn, "readings", "sensor").await;
    drop(conn);

    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    Reading::upsert_many(&db.pool, &seed).await.unwrap();
    let mut reported = Vec::new();
    let outcome = Reading::upsert_stream(&db.pool, stream::iter(rows.clone()), |sent| {
        reported.push(sent);
    })
    .await
    .unwrap();
    assert_eq!(outcome, expected);
    assert_eq!(outcome.inserted + outcome.updated + outcome.skipped, 60_000);
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        snapshot(&mut conn, "readings", "sensor").await,
        expected_rows
    );
    assert!(
        reported.len() > 2,
        "one report per chunk and one at the end: {reported:?}"
    );
    assert!(reported.windows(2).all(|w| w[0] <= w[1]), "{reported:?}");
    assert_eq!(reported.last(), Some(&60_000));
    drop(conn);

    // An empty stream writes nothing and reports 0.
    let mut reports = Vec::new();
    let empty = Reading::upsert_stream(&db.pool, stream::iter(Vec::<Reading>::new()), |n| {
        reports.push(n);
    })
    .await
    .unwrap();
    assert_eq!((empty, reports), (BatchOutcome::default(), vec![0]));
    db.finish().await;
}

#[tokio::test]
async fn a_bad_row_late_in_a_stream_leaves_nothing_and_the_transaction_goes_on() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    let mut rng = Rng(0xBAD_5EED);
    let mut rows = readings(&mut rng, 30_000, 100_000);
    rows[29_000].value = -1;
    let error = Reading::upsert_stream(&db.pool, stream::iter(rows.clone()), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Row { index: 29_000, source } if matches!(**source, Error::CheckViolation { .. })),
        "{error:?}"
    );
    leaves_nothing_and_the_callers_transaction_goes_on(&db, async |tx| {
        assert!(
            Reading::upsert_stream(tx, stream::iter(rows), |_| {})
                .await
                .is_err()
        );
    })
    .await;
    db.finish().await;
}

#[tokio::test]
async fn a_try_stream_stops_at_its_first_error_and_writes_nothing() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    let mut rng = Rng(0x7E57_0F0F);
    let rows = readings(&mut rng, 60_000, 3000);
    let failing = |at: usize| {
        stream::iter(rows.clone().into_iter().enumerate().map(move |(i, row)| {
            if i == at {
                Err(std::io::Error::other("the source broke"))
            } else {
                Ok(row)
            }
        }))
    };
    // Past the first chunks: rows were already sent when the error comes.
    let error = Reading::upsert_try_stream(&db.pool, failing(45_000), |_| {})
        .await
        .unwrap_err();
    match &error {
        Error::Source { index, source } => {
            assert_eq!(*index, 45_000);
            assert_eq!(source.to_string(), "the source broke");
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_transient() && !error.may_have_been_applied());
    leaves_nothing_and_the_callers_transaction_goes_on(&db, async |tx| {
        let error = Reading::upsert_try_stream(tx, failing(10), |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::Source { index: 10, .. }),
            "{error:?}"
        );
    })
    .await;

    // No error: the same as `upsert_stream`.
    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    let expected = Reading::upsert_stream(&db.pool, stream::iter(rows.clone()), |_| {})
        .await
        .unwrap();
    sqlx::raw_sql(READINGS).execute(&db.pool).await.unwrap();
    let outcome = Reading::upsert_try_stream(&db.pool, failing(usize::MAX), |_| {})
        .await
        .unwrap();
    assert_eq!(outcome, expected);
    db.finish().await;
}

/// The failed import left the table empty; then, inside a caller's transaction that first
/// writes a row of its own, `import` fails again: its savepoint rolls back, and the
/// transaction goes on and commits the caller's row.
async fn leaves_nothing_and_the_callers_transaction_goes_on(
    db: &TestDb,
    import: impl AsyncFnOnce(&mut PgConnection),
) {
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "all or nothing");
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("INSERT INTO readings VALUES ('kept', 1, 1, 1, '')")
        .execute(&mut *tx)
        .await
        .unwrap();
    import(&mut tx).await;
    tx.commit().await.unwrap();
    let sensors: Vec<String> = sqlx::query_scalar("SELECT sensor FROM readings")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(sensors, ["kept"]);
}
