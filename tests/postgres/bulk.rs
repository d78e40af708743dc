//! `upsert_many` against the real server, on both paths: one-by-one semantics,
//! duplicates, no deadlocks, all-or-nothing, no parameter limit.

use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, BatchOutcome, BulkPath, Error};
use upsert_testkit::TestDb;

#[derive(AtomicUpsert, Clone, Debug)]
struct Item {
    #[conflict_key]
    id: i64,
    name: String,
    qty: i32,
    #[upsert(insert_only)]
    first_qty: i32,
    #[upsert(updated_at)]
    updated_at: (),
}

fn item(id: i64, name: &str, qty: i32) -> Item {
    Item {
        id,
        name: name.into(),
        qty,
        first_qty: qty,
        updated_at: (),
    }
}

const PATHS: [BulkPath; 2] = [BulkPath::Unnest, BulkPath::Copy];

async fn setup(db: &TestDb) {
    sqlx::query(
        "CREATE TABLE item (id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL CHECK (qty >= 0),
         first_qty int NOT NULL, updated_at timestamptz NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
}

async fn snapshot(pool: &PgPool) -> Vec<(i64, String, i32, i32)> {
    sqlx::query_as("SELECT id, name, qty, first_qty FROM item ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn outcome(inserted: u64, updated: u64, skipped: u64) -> BatchOutcome {
    BatchOutcome {
        inserted,
        updated,
        skipped,
    }
}

#[tokio::test]
async fn duplicates_in_a_batch_apply_in_order_on_both_paths() {
    for path in PATHS {
        let db = TestDb::new(2).await;
        setup(&db).await;
        let batch = [item(1, "a1", 1), item(2, "b", 2), item(1, "a2", 3)];
        let got = Item::upsert_many_via(&db.pool, &batch, path).await.unwrap();
        assert_eq!(got, outcome(2, 1, 0), "{path:?}: a, b, a");
        // Last write wins; insert_only keeps the first row's value.
        assert_eq!(
            snapshot(&db.pool).await,
            [(1, "a2".into(), 3, 1), (2, "b".into(), 2, 2)],
            "{path:?}"
        );
        // Existing keys: every row is an update, repeats included.
        let batch = [item(2, "b2", 5), item(2, "b3", 6), item(3, "c", 7)];
        let got = Item::upsert_many_via(&db.pool, &batch, path).await.unwrap();
        assert_eq!(got, outcome(1, 2, 0), "{path:?}");
        assert_eq!(
            snapshot(&db.pool).await,
            [
                (1, "a2".into(), 3, 1),
                (2, "b3".into(), 6, 2),
                (3, "c".into(), 7, 7)
            ],
            "{path:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn hundred_thousand_rows_inserted_then_updated() {
    let db = TestDb::new(2).await;
    setup(&db).await;
    let mut rows: Vec<Item> = (0..100_000).map(|i| item(i, &format!("n{i}"), 1)).collect();
    let got = Item::upsert_many(&db.pool, &rows).await.unwrap();
    assert_eq!(got, outcome(100_000, 0, 0));
    for row in &mut rows {
        row.qty = 2;
    }
    let got = Item::upsert_many(&db.pool, &rows).await.unwrap();
    assert_eq!(got, outcome(0, 100_000, 0));
    let (count, sum, first): (i64, i64, i64) =
        sqlx::query_as("SELECT count(*), sum(qty)::int8, sum(first_qty)::int8 FROM item")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((count, sum, first), (100_000, 200_000, 100_000));
    db.finish().await;
}

#[tokio::test]
async fn no_parameter_limit_on_the_unnest_path() {
    let db = TestDb::new(1).await;
    setup(&db).await;
    // 70,000 rows x 4 bound columns would be 280,000 parameters as multi-row VALUES.
    let rows: Vec<Item> = (0..70_000).map(|i| item(i, "x", 1)).collect();
    let got = Item::upsert_many_via(&db.pool, &rows, BulkPath::Unnest)
        .await
        .unwrap();
    assert_eq!(got, outcome(70_000, 0, 0));
    db.finish().await;
}

#[tokio::test]
async fn a_bad_last_row_leaves_the_table_unchanged() {
    for path in PATHS {
        let db = TestDb::new(1).await;
        setup(&db).await;
        let seed: Vec<Item> = (0..100).map(|i| item(i, "seed", 1)).collect();
        Item::upsert_many(&db.pool, &seed).await.unwrap();
        let before = snapshot(&db.pool).await;

        // CHECK violation in the last row.
        let mut batch: Vec<Item> = (0..1000).map(|i| item(i, "new", 5)).collect();
        batch.last_mut().unwrap().qty = -1;
        let err = Item::upsert_many_via(&db.pool, &batch, path)
            .await
            .unwrap_err();
        // Both paths name the row that breaks the CHECK (COPY from its stage, UNNEST by
        // bisecting the batch after the failure).
        match &err {
            Error::Row { index: 999, source } => {
                assert!(matches!(**source, Error::CheckViolation { .. }), "{err:?}");
            }
            _ => panic!("{path:?}: {err:?}"),
        }
        assert_eq!(
            snapshot(&db.pool).await,
            before,
            "{path:?}: nothing written"
        );

        // NUL byte in the last row.
        batch.last_mut().unwrap().qty = 1;
        batch.last_mut().unwrap().name = "nul\0".into();
        let err = Item::upsert_many_via(&db.pool, &batch, path)
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("22021"), "{path:?}: {err:?}");
        // COPY names the line; UNNEST finds it by bisection.
        assert!(
            matches!(err, Error::Row { index: 999, .. }),
            "{path:?}: {err:?}"
        );
        assert!(err.to_string().contains("row 999"), "{err}");
        assert_eq!(
            snapshot(&db.pool).await,
            before,
            "{path:?}: nothing written"
        );
        // On a held connection, where `Copy` stages by `INSERT` statements: the server
        // rejects the row while staging, and bisection over the chunk names it.
        let mut conn = db.pool.acquire().await.unwrap();
        let err = Item::upsert_many_via(&mut *conn, &batch, path)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Row { index: 999, source } if source.sqlstate() == Some("22021")),
            "{path:?} held: {err:?}"
        );
        drop(conn);
        assert_eq!(snapshot(&db.pool).await, before, "{path:?} held");

        // The single connection is still usable.
        batch.last_mut().unwrap().name = "fine".into();
        let got = Item::upsert_many_via(&db.pool, &batch, path).await.unwrap();
        assert_eq!(got, outcome(900, 100, 0), "{path:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn joins_the_callers_transaction_and_empty_batches_make_no_round_trip() {
    for path in PATHS {
        let db = TestDb::new(2).await;
        setup(&db).await;
        let rows: Vec<Item> = (0..10).map(|i| item(i, "tx", 1)).collect();
        let mut tx = db.pool.begin().await.unwrap();
        Item::upsert_many_via(&mut *tx, &rows, path).await.unwrap();
        // Twice in one transaction: the COPY path's staging table is dropped each time.
        Item::upsert_many_via(&mut *tx, &rows, path).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(
            snapshot(&db.pool).await.is_empty(),
            "{path:?}: rolled back with the caller"
        );

        let mut conn = db.pool.acquire().await.unwrap();
        let got = Item::upsert_many_via(&mut *conn, &rows, path)
            .await
            .unwrap();
        assert_eq!(got, outcome(10, 0, 0));
        drop(conn);
        db.finish().await;
    }
    // A closed pool fails any round trip; an empty batch never makes one.
    let db = TestDb::new(1).await;
    db.pool.close().await;
    let got = Item::upsert_many(&db.pool, &[]).await.unwrap();
    assert_eq!(got, BatchOutcome::default());
    assert!(
        Item::upsert_many(&db.pool, &[item(1, "x", 1)])
            .await
            .is_err()
    );
}

#[derive(AtomicUpsert, Clone)]
struct PostTag {
    #[conflict_key]
    post_id: i64,
    #[conflict_key]
    tag: String,
}

#[tokio::test]
async fn all_key_batches_count_repeats_as_skipped() {
    for path in PATHS {
        let db = TestDb::new(1).await;
        sqlx::query("CREATE TABLE post_tag (post_id bigint, tag text, PRIMARY KEY (post_id, tag))")
            .execute(&db.pool)
            .await
            .unwrap();
        let tag = |post_id, tag: &str| PostTag {
            post_id,
            tag: tag.into(),
        };
        let batch = [tag(1, "a"), tag(1, "b"), tag(1, "a")];
        let got = PostTag::upsert_many_via(&db.pool, &batch, path)
            .await
            .unwrap();
        assert_eq!(got, outcome(2, 0, 1), "{path:?}");
        let got = PostTag::upsert_many_via(&db.pool, &batch, path)
            .await
            .unwrap();
        assert_eq!(got, outcome(0, 0, 3), "{path:?}");
        db.finish().await;
    }
}

const TASKS: usize = 4;
const ROUNDS: usize = 15;
const BATCH: i64 = 3000;

/// Opposite key orders: even tasks ascending, odd tasks descending, all over one key range.
fn batch_for(task: usize, round: usize) -> Vec<Item> {
    let qty = i32::try_from(round).unwrap();
    let mut rows: Vec<Item> = (0..BATCH)
        .map(|i| item(i, &format!("t{task}"), qty))
        .collect();
    if task % 2 == 1 {
        rows.reverse();
    }
    rows
}

/// Runs the concurrent workload; returns the SQLSTATE of every failed batch.
async fn concurrent_batches<F, Fut>(pool: &PgPool, run: F) -> Vec<String>
where
    F: Fn(PgPool, usize, Vec<Item>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    crate::support::concurrent_rounds(pool, (TASKS, ROUNDS), batch_for, run).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_in_opposite_orders_never_deadlock() {
    let db = TestDb::new(u32::try_from(TASKS).unwrap()).await;
    setup(&db).await;

    // The same workload through a hand-written unordered UNNEST upsert deadlocks.
    let naive = concurrent_batches(&db.pool, |pool, _task, rows| async move {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        let qtys: Vec<i32> = rows.iter().map(|r| r.qty).collect();
        sqlx::query(
            "INSERT INTO item (id, name, qty, first_qty, updated_at)
             SELECT id, name, qty, qty, now() FROM UNNEST($1::int8[], $2::text[], $3::int4[]) AS u(id, name, qty)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty, updated_at = now()",
        )
        .bind(ids)
        .bind(names)
        .bind(qtys)
        .execute(&pool)
        .await
        .err()
        .map(|e| e.as_database_error().and_then(sqlx::error::DatabaseError::code).unwrap_or_default().into_owned())
    })
    .await;
    assert!(
        naive.iter().any(|code| code == "40P01"),
        "the unordered statement never deadlocked, so this workload cannot show the problem: {naive:?}"
    );

    // upsert_many: UNNEST for tasks 0-1, COPY for tasks 2-3, all at once.
    let ours = concurrent_batches(&db.pool, |pool, task, rows| async move {
        let path = if task < 2 {
            BulkPath::Unnest
        } else {
            BulkPath::Copy
        };
        Item::upsert_many_via(&pool, &rows, path)
            .await
            .err()
            .map(|e| format!("{:?} {e}", e.sqlstate()))
    })
    .await;
    assert!(ours.is_empty(), "upsert_many failed: {ours:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM item")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, BATCH);
    eprintln!(
        "deadlocks: unordered {} of {} batches; upsert_many 0",
        naive.iter().filter(|c| *c == "40P01").count(),
        TASKS * ROUNDS
    );
    db.finish().await;
}

/// Every batch failure a row causes names the row, on both paths and whatever the cause:
/// a value too long for its column, a NULL into NOT NULL, an exception a trigger raises;
/// row 7,341 of 10,000, and the table is left as it was.
#[tokio::test]
async fn a_failure_deep_in_a_large_batch_names_its_row_on_both_paths() {
    #[derive(AtomicUpsert, Debug, Clone)]
    #[upsert(table = "labels")]
    struct Label {
        #[conflict_key]
        id: i64,
        code: String,
        note: Option<String>,
    }
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE labels (id int8 PRIMARY KEY, code varchar(8) NOT NULL, note text NOT NULL);
         CREATE FUNCTION labels_no_banned() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.note = 'banned' THEN RAISE EXCEPTION 'banned note in %', NEW.id; END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER labels_no_banned BEFORE INSERT OR UPDATE ON labels
             FOR EACH ROW EXECUTE FUNCTION labels_no_banned();",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let rows = || -> Vec<Label> {
        (0..10_000)
            .map(|id| Label {
                id,
                code: format!("c{id}"),
                note: Some("ok".into()),
            })
            .collect()
    };
    let mut too_long = rows();
    too_long[7_341].code = "much-too-long".into();
    let mut null = rows();
    null[7_341].note = None;
    let mut banned = rows();
    banned[7_341].note = Some("banned".into());
    for (batch, sqlstate) in [(too_long, "22001"), (null, "23502"), (banned, "P0001")] {
        for path in PATHS {
            let err = Label::upsert_many_via(&db.pool, &batch, path)
                .await
                .unwrap_err();
            match &err {
                Error::Row {
                    index: 7_341,
                    source,
                } => {
                    assert_eq!(source.sqlstate(), Some(sqlstate), "{path:?}: {err}");
                }
                _ => panic!("{path:?} {sqlstate}: {err:?}"),
            }
            // In a caller's transaction too, which goes on.
            let mut tx = db.pool.begin().await.unwrap();
            let err = Label::upsert_many_via(&mut *tx, &batch, path)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Row { index: 7_341, .. }),
                "{path:?}: {err:?}"
            );
            Label::upsert_many_via(&mut *tx, &rows()[..10], path)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM labels")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            assert_eq!(n, 0, "{path:?}: nothing written");
        }
    }
    db.finish().await;
}

/// An amount that refuses to be sent when negative: its `Encode` fails.
#[derive(Debug, Clone)]
struct Amount(i64);

impl sqlx::Type<sqlx::Postgres> for Amount {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <i64 as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::postgres::PgHasArrayType for Amount {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        <i64 as sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for Amount {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        if self.0 < 0 {
            return Err("a negative amount cannot be sent".into());
        }
        <i64 as sqlx::Encode<sqlx::Postgres>>::encode_by_ref(&self.0, buf)
    }
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "ledger")]
struct Entry {
    #[conflict_key]
    id: i64,
    amount: Amount,
}

/// A row whose value cannot be encoded is named as `Error::Encode` with its index, on
/// every path and executor (the `COPY` path encodes row by row; `UNNEST` statements and a
/// lent connection's staging find it by encoding each row after the failure), and
/// nothing is written.
#[tokio::test]
async fn a_row_that_cannot_be_encoded_is_named_on_every_path() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql("CREATE TABLE ledger (id int8 PRIMARY KEY, amount int8 NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let rows: Vec<Entry> = (0..12_000)
        .map(|id| Entry {
            id,
            amount: Amount(if id == 9_123 { -1 } else { id }),
        })
        .collect();
    let named = |what: &str, error: Error| {
        assert!(
            matches!(error, Error::Encode { index: 9_123, .. }),
            "{what}: {error:?}"
        );
    };
    for path in PATHS {
        named(
            &format!("{path:?} on the pool"),
            Entry::upsert_many_via(&db.pool, &rows, path)
                .await
                .unwrap_err(),
        );
        let mut conn = db.pool.acquire().await.unwrap();
        named(
            &format!("{path:?} held"),
            Entry::upsert_many_via(&mut *conn, &rows, path)
                .await
                .unwrap_err(),
        );
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        named(
            &format!("{path:?} outcomes in a transaction"),
            Entry::upsert_many_outcomes_via(&mut *tx, &rows, path)
                .await
                .unwrap_err(),
        );
        tx.commit().await.unwrap();
    }
    let stream = || futures_util::stream::iter(rows.clone());
    named(
        "stream on the pool",
        Entry::upsert_stream(&db.pool, stream(), |_| {})
            .await
            .unwrap_err(),
    );
    let mut conn = db.pool.acquire().await.unwrap();
    named(
        "stream held",
        Entry::upsert_stream(&mut *conn, stream(), |_| {})
            .await
            .unwrap_err(),
    );
    drop(conn);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ledger")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing written");
    db.finish().await;
}
