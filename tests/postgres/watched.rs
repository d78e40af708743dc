//! Batches on tables that watch every row — CHECK constraints, a BEFORE row trigger that
//! rewrites `NEW`, an AFTER row trigger that counts its firings — equal their rows applied
//! one by one: on random batches with repeated keys, on UNNEST and COPY, counts and
//! per-row outcomes, `upsert_stream`, and the writer. The fold would show the table one
//! row per key; these tables get the batch in rounds of distinct keys.

use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath, Error, UpsertOutcome, WriterConfig};
use futures_util::stream;
use upsert_testkit::TestDb;

use crate::support::Rng;

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "accounts")]
struct Account {
    #[conflict_key]
    id: i32,
    #[upsert(add)]
    balance: i64,
    memo: String,
}

/// A balance that must stay non-negative, a memo the BEFORE trigger rewrites from the
/// incoming row and the stored one, and an AFTER trigger counting its firings per id.
const ACCOUNTS: &str = "
    CREATE TABLE accounts (id int4 PRIMARY KEY, balance int8 NOT NULL CHECK (balance >= 0),
                           memo text NOT NULL);
    CREATE TABLE firings (id int4, op text, n int8 NOT NULL DEFAULT 0, PRIMARY KEY (id, op));
    CREATE FUNCTION accounts_memo() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.memo := NEW.memo || '#' || NEW.balance;
        RETURN NEW;
    END $$;
    CREATE TRIGGER accounts_memo BEFORE INSERT OR UPDATE ON accounts
        FOR EACH ROW EXECUTE FUNCTION accounts_memo();
    CREATE FUNCTION accounts_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO firings VALUES (NEW.id, TG_OP, 1)
            ON CONFLICT (id, op) DO UPDATE SET n = firings.n + 1;
        RETURN NULL;
    END $$;
    CREATE TRIGGER accounts_count AFTER INSERT OR UPDATE ON accounts
        FOR EACH ROW EXECUTE FUNCTION accounts_count();";

async fn state(conn: &mut PgConnection) -> String {
    sqlx::query_scalar(
        "SELECT (SELECT coalesce(string_agg(format('%s:%s:%s', id, balance, memo), ',' ORDER BY id), '') FROM accounts) \
         || ' | ' || (SELECT coalesce(string_agg(format('%s:%s:%s', id, op, n), ',' ORDER BY id, op), '') FROM firings)",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

/// One by one in a transaction, each row in a savepoint: the state and outcomes, or the
/// first row that fails.
async fn one_by_one(
    conn: &mut PgConnection,
    rows: &[Account],
) -> Result<(String, Vec<UpsertOutcome>), usize> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let mut outcomes = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if let Ok(outcome) = row.upsert(&mut *tx).await {
            outcomes.push(outcome);
        } else {
            tx.rollback().await.unwrap();
            return Err(i);
        }
    }
    let state = state(&mut tx).await;
    tx.rollback().await.unwrap();
    Ok((state, outcomes))
}

fn random_rows(rng: &mut Rng, n: usize) -> Vec<Account> {
    (0..n)
        .map(|i| Account {
            id: rng.int(5),
            // Mostly deposits, some withdrawals that overdraw partway through a key.
            balance: i64::from(rng.int(100)) - 25,
            memo: format!("r{i}"),
        })
        .collect()
}

#[tokio::test]
async fn batches_on_watched_tables_equal_one_by_one() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(ACCOUNTS).execute(&db.pool).await.unwrap();
    sqlx::query("INSERT INTO accounts SELECT id, 30, 'seed' FROM generate_series(0, 4) AS id")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut rng = Rng(0x00c4_ec45);
    let (mut failed, mut passed) = (0, 0);
    for _ in 0..40 {
        let n = 1 + usize::try_from(rng.below(16)).unwrap();
        let rows = random_rows(&mut rng, n);
        let mut conn = db.pool.acquire().await.unwrap();
        let expected = one_by_one(&mut conn, &rows).await;
        for path in [BulkPath::Unnest, BulkPath::Copy] {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            let counts = Account::upsert_many_via(&mut *tx, &rows, path).await;
            let stored = state(&mut tx).await;
            tx.rollback().await.unwrap();
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            let outcomes = Account::upsert_many_outcomes_via(&mut *tx, &rows, path).await;
            tx.rollback().await.unwrap();
            match &expected {
                Ok((state, one_by_one)) => {
                    let counts = counts.unwrap_or_else(|e| panic!("{path:?}: {e}"));
                    assert_eq!(&stored, state, "{path:?}: rows and firings differ");
                    let inserted = one_by_one
                        .iter()
                        .filter(|o| **o == UpsertOutcome::Inserted)
                        .count();
                    assert_eq!(
                        usize::try_from(counts.inserted).unwrap(),
                        inserted,
                        "{path:?}"
                    );
                    assert_eq!(&outcomes.unwrap(), one_by_one, "{path:?}: per-row outcomes");
                }
                Err(first) => {
                    // One by one, row `first` fails the CHECK: the batch fails as a whole.
                    let error = counts.expect_err("a row fails one by one: the batch fails");
                    assert_eq!(
                        error.sqlstate(),
                        Some("23514"),
                        "{path:?}: row {first}: {error}"
                    );
                    // A row that fails after its key's rows before it is named.
                    let Error::Row { index, .. } = error else {
                        panic!("{path:?}: no row named: {error:?}");
                    };
                    assert!(index < rows.len(), "{path:?}");
                    assert!(outcomes.is_err(), "{path:?}");
                }
            }
        }
        if expected.is_ok() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    assert!(
        failed > 3 && passed > 3,
        "both kinds of batch: {failed} failed, {passed} passed"
    );

    // The fold itself would differ: shown here on the same table without its watchers.
    sqlx::raw_sql(
        "DROP TRIGGER accounts_memo ON accounts; DROP TRIGGER accounts_count ON accounts; \
         ALTER TABLE accounts DROP CONSTRAINT accounts_balance_check",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let rows = [
        Account {
            id: 1,
            balance: -50,
            memo: "w".into(),
        },
        Account {
            id: 1,
            balance: 100,
            memo: "d".into(),
        },
    ];
    let outcome = Account::upsert_many(&db.pool, &rows).await.unwrap();
    assert_eq!(outcome.updated, 2, "unwatched: folded, as before");
    db.finish().await;
}

#[tokio::test]
async fn a_withdrawal_before_a_deposit_fails_on_every_path() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(ACCOUNTS).execute(&db.pool).await.unwrap();
    sqlx::query("INSERT INTO accounts VALUES (1, 0, 'seed')")
        .execute(&db.pool)
        .await
        .unwrap();
    let rows = [
        Account {
            id: 1,
            balance: -50,
            memo: "withdraw".into(),
        },
        Account {
            id: 1,
            balance: 100,
            memo: "deposit".into(),
        },
    ];
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let error = Account::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap_err();
        assert_eq!(error.sqlstate(), Some("23514"), "{path:?}: {error}");
        assert!(
            matches!(error, Error::Row { index: 0, .. }),
            "{path:?}: the withdrawal is named: {error:?}"
        );
    }
    let error = Account::upsert_stream(&db.pool, stream::iter(rows.to_vec()), |_| {})
        .await
        .unwrap_err();
    assert_eq!(error.sqlstate(), Some("23514"), "stream: {error}");
    // The writer: the withdrawal fails its own call, the deposit succeeds, as one by one.
    let writer = Account::writer(&db.pool, WriterConfig::default());
    let (withdraw, deposit) = tokio::join!(
        writer.upsert(rows[0].clone()),
        writer.upsert(rows[1].clone())
    );
    writer.shutdown().await;
    assert!(
        matches!(&withdraw, Err(e) if e.sqlstate() == Some("23514")),
        "{withdraw:?}"
    );
    assert_eq!(deposit.unwrap(), UpsertOutcome::Updated);
    let balance: i64 = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(balance, 100);
    db.finish().await;
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "totals")]
struct Total {
    #[conflict_key]
    id: i32,
    #[upsert(add)]
    n: i64,
}

/// An `add` whose running sum overflows partway through a key where the total does not
/// (`i64::MAX`, then +1, then −1): one by one the +1 fails with 22003, so the batch does on
/// every path, with no CHECK and no trigger; the writer fails that call alone. Random
/// batches of mixed amounts near the limit match one by one.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "the fixed case, the random ones, the writer"
)]
async fn a_running_sum_that_overflows_fails_as_one_by_one() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE totals (id int4 PRIMARY KEY, n int8 NOT NULL);
         INSERT INTO totals VALUES (1, 9223372036854775806)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let rows = [
        Total { id: 1, n: 1 },
        Total { id: 1, n: 1 },
        Total { id: 1, n: -1 },
    ];
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let error = Total::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap_err();
        assert_eq!(error.sqlstate(), Some("22003"), "{path:?}: {error}");
        assert!(
            matches!(error, Error::Row { index: 1, .. }),
            "{path:?}: the second +1 is named: {error:?}"
        );
        let error = Total::upsert_many_outcomes_via(&db.pool, &rows, path)
            .await
            .unwrap_err();
        assert_eq!(error.sqlstate(), Some("22003"), "{path:?}: {error}");
    }
    let error = Total::upsert_stream(&db.pool, stream::iter(rows.to_vec()), |_| {})
        .await
        .unwrap_err();
    assert_eq!(error.sqlstate(), Some("22003"), "stream: {error}");
    let stored: i64 = sqlx::query_scalar("SELECT n FROM totals WHERE id = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, i64::MAX - 1, "nothing written");
    // Amounts of one sign fold as before: their running sums never pass the total.
    let outcome = Total::upsert_many(
        &db.pool,
        &[
            Total { id: 1, n: 1 },
            Total { id: 2, n: 5 },
            Total { id: 2, n: 5 },
        ],
    )
    .await
    .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (1, 2));

    // Random batches of mixed amounts on keys stored near both limits.
    let mut rng = Rng(0x0f10_a7ed);
    let seeds = "DELETE FROM totals; INSERT INTO totals VALUES \
                 (0, 9223372036854775800), (1, -9223372036854775800), (2, 0)";
    let (mut failed, mut passed) = (0, 0);
    for _ in 0..30 {
        sqlx::raw_sql(seeds).execute(&db.pool).await.unwrap();
        let rows: Vec<Total> = (0..=rng.below(10))
            .map(|_| Total {
                id: rng.int(3),
                n: i64::from(rng.int(21)) - 10,
            })
            .collect();
        let mut conn = db.pool.acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let mut expected = Ok(());
        for row in &rows {
            if let Err(error) = row.upsert(&mut *tx).await {
                expected = Err(error.sqlstate().map(str::to_owned));
                break;
            }
        }
        let expected_state: Option<String> = if expected.is_ok() {
            Some(
                sqlx::query_scalar(
                    "SELECT string_agg(format('%s:%s', id, n), ',' ORDER BY id) FROM totals",
                )
                .fetch_one(&mut *tx)
                .await
                .unwrap(),
            )
        } else {
            None
        };
        tx.rollback().await.unwrap();
        for path in [BulkPath::Unnest, BulkPath::Copy] {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            let result = Total::upsert_many_via(&mut *tx, &rows, path).await;
            match (&expected, result) {
                (Ok(()), Ok(_)) => {
                    let state: String = sqlx::query_scalar(
                        "SELECT string_agg(format('%s:%s', id, n), ',' ORDER BY id) FROM totals",
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                    assert_eq!(Some(state), expected_state, "{path:?}: {rows:?}");
                }
                (Err(code), Err(error)) => {
                    assert_eq!(error.sqlstate(), code.as_deref(), "{path:?}: {rows:?}");
                }
                (expected, got) => {
                    panic!("{path:?}: {rows:?}: one by one {expected:?}, batch {got:?}")
                }
            }
            tx.rollback().await.unwrap();
        }
        if expected.is_ok() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    assert!(failed > 2 && passed > 2, "{failed} failed, {passed} passed");

    // The writer: the overflowing call fails alone.
    sqlx::raw_sql("DELETE FROM totals; INSERT INTO totals VALUES (1, 9223372036854775806)")
        .execute(&db.pool)
        .await
        .unwrap();
    let writer = Total::writer(&db.pool, WriterConfig::default());
    let (a, b, c) = tokio::join!(
        writer.upsert(Total { id: 1, n: 1 }),
        writer.upsert(Total { id: 1, n: 1 }),
        writer.upsert(Total { id: 1, n: -1 })
    );
    writer.shutdown().await;
    assert_eq!(a.unwrap(), UpsertOutcome::Updated);
    assert!(
        matches!(&b, Err(e) if e.sqlstate() == Some("22003")),
        "{b:?}"
    );
    assert_eq!(c.unwrap(), UpsertOutcome::Updated);
    db.finish().await;
}
