//! Partitioned tables (`#[upsert(partitioned)]`): list, range, hash and sub-partitioned
//! tables written on every path with exact outcomes, against one-by-one application and an
//! outcome oracle of our own (the key's existence before each row); `verify`'s partition
//! rules; the typed errors (no attribute, a row an update would move); concurrent batches
//! across partitions. The suite runs on PostgreSQL 15 (the `xmax`-free marker) and 18
//! (`RETURNING old`), so each test covers the statement its server runs.

use std::collections::HashSet;

use atomic_upsert::schema::MismatchKind;
use atomic_upsert::sqlx::{self, Connection as _, PgConnection};
use atomic_upsert::{
    AtomicUpsert, BatchOutcome, BulkPath, Error, Obtained, UpsertOutcome, WriterConfig,
};
use futures_util::stream;
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one, concurrent_rounds, snapshot};

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "parted", partitioned)]
struct Parted {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    #[upsert(add)]
    hits: i64,
    note: Option<String>,
}

/// The same table, written by a struct that does not say `partitioned`.
#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "parted")]
struct Unmarked {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    hits: i64,
}

/// A key without the table's partition key.
#[derive(AtomicUpsert)]
#[upsert(table = "parted", partitioned)]
struct ById {
    #[conflict_key]
    id: i64,
    hits: i64,
}

/// Guarded: a version, and `skip_unchanged` (the statement that answers in a row of its own).
#[derive(AtomicUpsert, Clone, Debug)]
#[upsert(table = "parted_v", partitioned, skip_unchanged)]
struct PartedVersioned {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    #[upsert(version)]
    version: i64,
    note: String,
}

const COLUMNS: &str = "id int8 NOT NULL, part int4 NOT NULL, hits int8 NOT NULL, note text, \
                       PRIMARY KEY (id, part)";

/// Each shape: its name and the DDL of `parted` (parts 0..=8 go somewhere in every shape).
fn shapes() -> [(&'static str, String); 4] {
    [
        (
            "list",
            format!(
                "CREATE TABLE parted ({COLUMNS}) PARTITION BY LIST (part); \
                 CREATE TABLE parted_a PARTITION OF parted FOR VALUES IN (0, 1, 2); \
                 CREATE TABLE parted_b PARTITION OF parted FOR VALUES IN (3, 4, 5); \
                 CREATE TABLE parted_rest PARTITION OF parted DEFAULT"
            ),
        ),
        (
            "range",
            format!(
                "CREATE TABLE parted ({COLUMNS}) PARTITION BY RANGE (part); \
                 CREATE TABLE parted_lo PARTITION OF parted FOR VALUES FROM (MINVALUE) TO (3); \
                 CREATE TABLE parted_mid PARTITION OF parted FOR VALUES FROM (3) TO (6); \
                 CREATE TABLE parted_hi PARTITION OF parted FOR VALUES FROM (6) TO (MAXVALUE)"
            ),
        ),
        (
            "hash",
            format!(
                "CREATE TABLE parted ({COLUMNS}) PARTITION BY HASH (id); \
                 CREATE TABLE parted_h0 PARTITION OF parted FOR VALUES WITH (MODULUS 3, REMAINDER 0); \
                 CREATE TABLE parted_h1 PARTITION OF parted FOR VALUES WITH (MODULUS 3, REMAINDER 1); \
                 CREATE TABLE parted_h2 PARTITION OF parted FOR VALUES WITH (MODULUS 3, REMAINDER 2)"
            ),
        ),
        (
            "list of hash (sub-partitioned)",
            format!(
                "CREATE TABLE parted ({COLUMNS}) PARTITION BY LIST (part); \
                 CREATE TABLE parted_low PARTITION OF parted FOR VALUES IN (0, 1, 2, 3, 4) \
                     PARTITION BY HASH (id); \
                 CREATE TABLE parted_low0 PARTITION OF parted_low FOR VALUES WITH (MODULUS 2, REMAINDER 0); \
                 CREATE TABLE parted_low1 PARTITION OF parted_low FOR VALUES WITH (MODULUS 2, REMAINDER 1); \
                 CREATE TABLE parted_high PARTITION OF parted FOR VALUES IN (5, 6, 7, 8)"
            ),
        ),
    ]
}

async fn create(db: &TestDb, ddl: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS parted CASCADE; {ddl}"
    )))
    .execute(&db.pool)
    .await
    .unwrap();
}

fn random_rows(rng: &mut Rng, n: usize) -> Vec<Parted> {
    (0..n)
        .map(|_| Parted {
            id: i64::from(rng.int(12)),
            part: rng.int(9),
            hits: i64::from(rng.int(5)) + 1,
            note: (rng.below(3) > 0).then(|| format!("n{}", rng.below(100))),
        })
        .collect()
}

/// The outcomes of `rows` applied one by one, told by whether each key is stored before
/// its row: independent of how the statements tell inserts from updates.
async fn oracle(conn: &mut PgConnection, rows: &[Parted]) -> Vec<UpsertOutcome> {
    let mut outcomes = Vec::new();
    for row in rows {
        let existed: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM parted WHERE id = $1 AND part = $2)")
                .bind(row.id)
                .bind(row.part)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        row.upsert(&mut *conn).await.unwrap();
        outcomes.push(if existed {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Inserted
        });
    }
    outcomes
}

/// The counts of per-row outcomes.
fn counts(outcomes: &[UpsertOutcome]) -> BatchOutcome {
    let mut counts = BatchOutcome::default();
    for outcome in outcomes {
        match outcome {
            UpsertOutcome::Inserted => counts.inserted += 1,
            UpsertOutcome::Updated => counts.updated += 1,
            _ => counts.skipped += 1,
        }
    }
    counts
}

#[tokio::test]
async fn single_row_calls_on_every_shape_tell_inserts_from_updates() {
    let db = TestDb::new(2).await;
    for (shape, ddl) in shapes() {
        create(&db, &ddl).await;
        for part in [0, 4, 8] {
            let row = Parted {
                id: 7,
                part,
                hits: 2,
                note: Some("a".into()),
            };
            assert_eq!(
                row.upsert(&db.pool).await.unwrap(),
                UpsertOutcome::Inserted,
                "{shape}"
            );
            assert_eq!(
                row.upsert(&db.pool).await.unwrap(),
                UpsertOutcome::Updated,
                "{shape}"
            );
            // A held connection, and a caller's transaction that rolls back.
            let mut conn = db.pool.acquire().await.unwrap();
            assert_eq!(
                row.upsert(&mut *conn).await.unwrap(),
                UpsertOutcome::Updated,
                "{shape}"
            );
            let mut tx = conn.begin().await.unwrap();
            assert_eq!(row.upsert(&mut *tx).await.unwrap(), UpsertOutcome::Updated);
            tx.rollback().await.unwrap();
            drop(conn);
            let stored = row.upsert_returning(&db.pool).await.unwrap().unwrap();
            assert_eq!(
                stored.hits, 8,
                "{shape}: 2 + 2 + 2 + 2 (the rolled-back one not)"
            );

            let fresh = Parted {
                id: 8,
                part,
                hits: 1,
                note: None,
            };
            assert_eq!(
                fresh.insert_or_ignore(&db.pool).await.unwrap(),
                UpsertOutcome::Inserted,
                "{shape}"
            );
            assert_eq!(
                fresh.insert_or_ignore(&db.pool).await.unwrap(),
                UpsertOutcome::Skipped,
                "{shape}"
            );
            let other = Parted {
                id: 9,
                part,
                hits: 5,
                note: None,
            };
            let (got, how) = other.insert_or_get(&db.pool).await.unwrap();
            assert_eq!((got, how), (other.clone(), Obtained::Inserted), "{shape}");
            let again = Parted { hits: 99, ..other };
            let (got, how) = again.insert_or_get(&db.pool).await.unwrap();
            assert_eq!((got.hits, how), (5, Obtained::Existing), "{shape}");
        }
    }
    db.finish().await;
}

#[tokio::test]
async fn batches_on_every_shape_match_one_by_one() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (shape, ddl) in shapes() {
        for round in 0..6 {
            let seed = random_rows(&mut rng, 10);
            let batch = random_rows(&mut rng, [1, 5, 40, 200, 7, 60][round]);
            // Counts, rows and per-row outcomes on both paths, against one by one.
            let outcome = bulk_matches_one_by_one(
                &db,
                &format!("DROP TABLE IF EXISTS parted CASCADE; {ddl}"),
                "id, part",
                &seed,
                &batch,
            )
            .await;
            // And one by one's outcomes against the oracle that never reads a flag.
            let mut tx = db.pool.begin().await.unwrap();
            let told = oracle(&mut tx, &batch).await;
            tx.rollback().await.unwrap();
            let mut tx = db.pool.begin().await.unwrap();
            let mut each = Vec::new();
            for row in &batch {
                each.push(row.upsert(&mut *tx).await.unwrap());
            }
            tx.rollback().await.unwrap();
            assert_eq!(each, told, "{shape} round {round}: single-row outcomes");
            assert_eq!(outcome, counts(&told), "{shape} round {round}");
        }
    }
    db.finish().await;
}

#[tokio::test]
async fn streams_and_the_writer_on_a_partitioned_table() {
    let db = TestDb::new(4).await;
    let mut rng = Rng(77);
    for (shape, ddl) in shapes() {
        create(&db, &ddl).await;
        let seed = random_rows(&mut rng, 30);
        let rows = random_rows(&mut rng, 500);
        Parted::upsert_many(&db.pool, &seed).await.unwrap();

        let mut tx = db.pool.begin().await.unwrap();
        let expected = oracle(&mut tx, &rows).await;
        let expected_rows = snapshot(&mut tx, "parted", "id, part").await;
        tx.rollback().await.unwrap();

        let mut tx = db.pool.begin().await.unwrap();
        let streamed = Parted::upsert_stream(&mut *tx, stream::iter(rows.clone()), |_| {})
            .await
            .unwrap();
        assert_eq!(streamed, counts(&expected), "{shape}: stream");
        assert_eq!(
            snapshot(&mut tx, "parted", "id, part").await,
            expected_rows,
            "{shape}: stream rows"
        );
        tx.rollback().await.unwrap();

        // The writer: calls one after another, each answered with its own outcome.
        let writer = Parted::writer(&db.pool, WriterConfig::default());
        let mut answers = Vec::new();
        for row in &rows {
            answers.push(writer.upsert(row.clone()).await.unwrap());
        }
        writer.shutdown().await;
        assert_eq!(answers, expected, "{shape}: writer");
        let mut conn = db.pool.acquire().await.unwrap();
        assert_eq!(
            snapshot(&mut conn, "parted", "id, part").await,
            expected_rows,
            "{shape}: writer rows"
        );
    }
    db.finish().await;
}

#[tokio::test]
async fn guards_on_a_partitioned_table() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE parted_v (id int8, part int4, version int8 NOT NULL, note text NOT NULL, \
             PRIMARY KEY (id, part)) PARTITION BY LIST (part); \
         CREATE TABLE parted_v0 PARTITION OF parted_v FOR VALUES IN (0); \
         CREATE TABLE parted_v1 PARTITION OF parted_v FOR VALUES IN (1)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let v = |version, note: &str| PartedVersioned {
        id: 1,
        part: 1,
        version,
        note: note.into(),
    };
    assert_eq!(
        v(2, "a").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        v(1, "b").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Skipped
    );
    assert_eq!(
        v(2, "a").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Unchanged
    );
    assert_eq!(
        v(3, "c").upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    // The same rows in one batch, per row.
    let rows = [
        v(4, "d"),
        v(3, "x"),
        v(5, "e"),
        PartedVersioned {
            part: 0,
            ..v(1, "z")
        },
    ];
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let mut tx = db.pool.begin().await.unwrap();
        let outcomes = PartedVersioned::upsert_many_outcomes_via(&mut *tx, &rows, path)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            outcomes,
            [
                UpsertOutcome::Updated,
                UpsertOutcome::Skipped,
                UpsertOutcome::Updated,
                UpsertOutcome::Inserted
            ],
            "{path:?}"
        );
    }
    assert_eq!(PartedVersioned::verify(&db.pool).await.ok(), Some(()));
    db.finish().await;
}

#[tokio::test]
async fn verify_accepts_every_correctly_keyed_shape() {
    let db = TestDb::new(1).await;
    for (shape, ddl) in shapes() {
        create(&db, &ddl).await;
        Parted::verify(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
    }
    db.finish().await;
}

/// The kinds `verify` reports for `T`.
async fn reported<T: AtomicUpsert>(db: &TestDb) -> Vec<MismatchKind> {
    match T::verify(&db.pool).await {
        Ok(()) => Vec::new(),
        Err(Error::SchemaMismatch(report)) => report.mismatches().map(|(_, m)| m.kind).collect(),
        Err(other) => panic!("verify failed: {other}"),
    }
}

#[tokio::test]
async fn verify_reports_what_the_first_write_would_hit() {
    let db = TestDb::new(1).await;
    let (_, list) = &shapes()[0];
    create(&db, list).await;
    // No `partitioned`: EXPLAIN passes, the first write would fail with 0A000.
    assert_eq!(reported::<Unmarked>(&db).await, [MismatchKind::Partitioned]);
    let error = Unmarked {
        id: 1,
        part: 1,
        hits: 1,
    }
    .upsert(&db.pool)
    .await
    .unwrap_err();
    assert!(
        matches!(&error, Error::PartitionedTable { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("#[upsert(partitioned)]"),
        "{error}"
    );

    // A partitioned table with no partition: every row would fail.
    create(
        &db,
        &format!("CREATE TABLE parted ({COLUMNS}) PARTITION BY LIST (part)"),
    )
    .await;
    assert_eq!(reported::<Parted>(&db).await, [MismatchKind::NoPartition]);

    // A key without the partition key: no unique index can exist; the fix says why.
    create(
        &db,
        "CREATE TABLE parted (id int8, part int4, hits int8 NOT NULL, note text, \
             PRIMARY KEY (id, part)) PARTITION BY LIST (part); \
         CREATE TABLE parted_all PARTITION OF parted DEFAULT",
    )
    .await;
    let Err(Error::SchemaMismatch(report)) = ById::verify(&db.pool).await else {
        panic!("a key without the partition key verified");
    };
    let text = report.to_string();
    assert!(
        text.contains("must include the partition key (part)"),
        "{text}"
    );
    // Nothing written, the pool fine.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM parted")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    db.finish().await;
}

#[tokio::test]
async fn an_update_that_would_move_a_row_is_a_typed_error_on_every_path() {
    let db = TestDb::new(2).await;
    let (_, list) = &shapes()[0];
    create(&db, list).await;
    // A trigger that moves a busy row to part 8: ON CONFLICT DO UPDATE cannot.
    sqlx::raw_sql(
        "CREATE FUNCTION move_busy() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.hits > 100 THEN NEW.part := 8; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER move_busy BEFORE UPDATE ON parted FOR EACH ROW EXECUTE FUNCTION move_busy()",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let row = |hits| Parted {
        id: 1,
        part: 1,
        hits,
        note: None,
    };
    row(1).upsert(&db.pool).await.unwrap();
    let before = {
        let mut conn = db.pool.acquire().await.unwrap();
        snapshot(&mut conn, "parted", "id, part").await
    };
    let moved = |error: Error, how: &str| {
        assert!(
            matches!(error, Error::CrossPartitionUpdate { .. }),
            "{how}: {error:?}"
        );
    };
    moved(row(500).upsert(&db.pool).await.unwrap_err(), "upsert");
    moved(
        row(500).upsert_returning(&db.pool).await.unwrap_err(),
        "upsert_returning",
    );
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let rows = [row(500), Parted { id: 2, ..row(1) }];
        moved(
            Parted::upsert_many_via(&db.pool, &rows, path)
                .await
                .unwrap_err(),
            "upsert_many",
        );
    }
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        snapshot(&mut conn, "parted", "id, part").await,
        before,
        "nothing written"
    );
    drop(conn);
    assert_eq!(
        row(1).upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Updated
    );
    db.finish().await;
}

#[tokio::test]
async fn concurrent_batches_across_partitions_keep_exact_sums() {
    let db = TestDb::new(8).await;
    let (_, ddl) = &shapes()[3];
    create(&db, ddl).await;
    // 8 tasks, each round a batch over every key in its own order: locks across every
    // partition, in opposite orders, on both paths and one by one.
    let (tasks, rounds) = (8, 12);
    let batch = |task: usize, round: usize| {
        let mut rng = Rng((task * 1000 + round) as u64 + 1);
        let mut rows: Vec<Parted> = (0..40)
            .map(|i| Parted {
                id: i % 10,
                part: i32::try_from(i / 10 * 2).unwrap(),
                hits: 1,
                note: None,
            })
            .collect();
        for i in (1..rows.len()).rev() {
            rows.swap(i, usize::try_from(rng.below(i as u64 + 1)).unwrap());
        }
        rows
    };
    let inserted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = std::sync::Arc::clone(&inserted);
    let errors = concurrent_rounds(&db.pool, (tasks, rounds), batch, move |pool, task, rows| {
        let counted = std::sync::Arc::clone(&counted);
        async move {
            let result = match task % 3 {
                0 => Parted::upsert_many_via(&pool, &rows, BulkPath::Unnest).await,
                1 => Parted::upsert_many_via(&pool, &rows, BulkPath::Copy).await,
                _ => {
                    let mut outcome = BatchOutcome::default();
                    for row in &rows {
                        match row.upsert(&pool).await {
                            Ok(UpsertOutcome::Inserted) => outcome.inserted += 1,
                            Ok(_) => outcome.updated += 1,
                            Err(e) => return Some(e.to_string()),
                        }
                    }
                    Ok(outcome)
                }
            };
            match result {
                Ok(outcome) => {
                    counted.fetch_add(outcome.inserted, std::sync::atomic::Ordering::Relaxed);
                    None
                }
                Err(e) => Some(e.to_string()),
            }
        }
    })
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let (keys, total): (i64, i64) = sqlx::query_as("SELECT count(*), sum(hits)::int8 FROM parted")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(keys, 40);
    assert_eq!(
        total,
        40 * i64::try_from(tasks * rounds).unwrap(),
        "no lost increment"
    );
    // Exactly one call inserted each key, however the calls raced.
    assert_eq!(
        inserted.load(std::sync::atomic::Ordering::Relaxed),
        40,
        "inserts reported"
    );
    let distinct: HashSet<i64> = sqlx::query_scalar("SELECT DISTINCT id FROM parted")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(distinct.len(), 10);
    db.finish().await;
}

/// The statement a partitioned struct sends follows the connection's server: on 18 and later
/// `RETURNING old` (the marker setting is never touched), before 18 the marker (set by the
/// update, cleared by its `RETURNING`, local to the transaction).
#[tokio::test]
async fn the_statement_follows_the_server_version() {
    let db = TestDb::new(1).await;
    let (_, list) = &shapes()[0];
    create(&db, list).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let version = conn.server_version_num().unwrap();
    let mut tx = conn.begin().await.unwrap();
    let row = Parted {
        id: 1,
        part: 1,
        hits: 1,
        note: None,
    };
    assert_eq!(row.upsert(&mut *tx).await.unwrap(), UpsertOutcome::Inserted);
    assert_eq!(row.upsert(&mut *tx).await.unwrap(), UpsertOutcome::Updated);
    let marker: Option<String> =
        sqlx::query_scalar("SELECT current_setting('atomic_upsert.updated', true)")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    if version >= 180_000 {
        assert_eq!(
            marker, None,
            "PostgreSQL {version}: RETURNING old, no marker"
        );
    } else {
        assert_eq!(
            marker.as_deref(),
            Some(""),
            "PostgreSQL {version}: the marker, cleared"
        );
    }
    tx.rollback().await.unwrap();
    drop(conn);
    assert!(!Parted::UPSERT_SQL.contains("xmax"));
    db.finish().await;
}

/// The run asked for a server version (`ATOMIC_UPSERT_EXPECT_PG_MAJOR`, set by
/// `scripts/test`): the suite really runs on it.
#[tokio::test]
async fn the_server_is_the_version_the_run_asked_for() {
    let db = TestDb::new(1).await;
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int4")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    eprintln!("PostgreSQL server_version_num {version}");
    if let Ok(major) = std::env::var("ATOMIC_UPSERT_EXPECT_PG_MAJOR") {
        assert_eq!(version / 10000, major.parse::<i32>().unwrap());
    }
    db.finish().await;
}
