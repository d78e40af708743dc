//! `#[upsert(default = "..")]` (a `None` inserts the column's default and leaves the stored
//! value on update; a `Some` is written) and `#[upsert(update_from = "sent")]` (an update
//! writes the value sent, not `EXCLUDED`, which a `BEFORE INSERT` trigger rewrote), on a
//! table shaped like Lemmy's `person_mention` and `private_message`: NOT NULL columns with
//! defaults and a trigger that rewrites a local `ap_id` into a URL. Every path: single row on a
//! pool, a held connection and a caller's transaction, `upsert_returning`, and `upsert_many`
//! on UNNEST and COPY checked against one by one on random data; `verify` against the
//! catalog's defaults.

use atomic_upsert::schema::MismatchKind;
use atomic_upsert::sqlx::{self, PgConnection};
use atomic_upsert::{AtomicUpsert, BulkPath, Error, Obtained, UpsertOutcome};
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one};

/// `read` and `local` as Lemmy's forms have them: `None` means "the column's default".
/// `ap_id` is updated from `EXCLUDED` (the default): the trigger's rewrite.
#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "mention")]
struct Mention {
    #[conflict_key]
    recipient: i32,
    #[conflict_key]
    comment: i32,
    #[upsert(default = "false")]
    read: Option<bool>,
    #[upsert(default = "true")]
    local: Option<bool>,
    ap_id: String,
}

/// The same, with `ap_id` updated from the value sent (what Diesel's `.set(&form)` binds).
#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "mention")]
struct MentionSent {
    #[conflict_key]
    recipient: i32,
    #[conflict_key]
    comment: i32,
    #[upsert(default = "false", update_from = "sent")]
    read: Option<bool>,
    #[upsert(default = "true")]
    local: Option<bool>,
    #[upsert(update_from = "sent")]
    ap_id: String,
}

const MENTION: &str = "
    CREATE TABLE mention (
        id serial PRIMARY KEY,
        recipient int4 NOT NULL,
        comment int4 NOT NULL,
        read bool NOT NULL DEFAULT false,
        local bool NOT NULL DEFAULT true,
        ap_id text NOT NULL,
        UNIQUE (recipient, comment));
    CREATE FUNCTION mention_ap_id() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.ap_id = 'local' THEN
            NEW.ap_id := 'https://local/' || NEW.recipient || '/' || NEW.comment;
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER mention_ap_id BEFORE INSERT ON mention
        FOR EACH ROW EXECUTE FUNCTION mention_ap_id();";

async fn stored(conn: &mut PgConnection, recipient: i32) -> (bool, bool, String) {
    sqlx::query_as("SELECT read, local, ap_id FROM mention WHERE recipient = $1 AND comment = 1")
        .bind(recipient)
        .fetch_one(conn)
        .await
        .unwrap()
}

fn mention(recipient: i32, read: Option<bool>, local: Option<bool>, ap_id: &str) -> Mention {
    Mention {
        recipient,
        comment: 1,
        read,
        local,
        ap_id: ap_id.into(),
    }
}

/// The scenario on one executor: insert with `None`s, another writer marks the row read,
/// an update with `None`s keeps it, a `Some` writes; `ap_id` from `EXCLUDED` (the
/// trigger's URL) or as sent.
async fn scenario(conn: &mut PgConnection, recipient: i32) {
    let first = mention(recipient, None, None, "local");
    assert_eq!(
        first.upsert(&mut *conn).await.unwrap(),
        UpsertOutcome::Inserted
    );
    // The defaults applied, and the trigger rewrote ap_id.
    let url = format!("https://local/{recipient}/1");
    assert_eq!(stored(conn, recipient).await, (false, true, url.clone()));
    sqlx::query("UPDATE mention SET read = true, local = false WHERE recipient = $1")
        .bind(recipient)
        .execute(&mut *conn)
        .await
        .unwrap();
    // `None`s keep what the other writer stored.
    assert_eq!(
        first.upsert(&mut *conn).await.unwrap(),
        UpsertOutcome::Updated
    );
    assert_eq!(stored(conn, recipient).await, (true, false, url.clone()));
    // `Some`s are written.
    let second = mention(recipient, Some(false), Some(true), "https://remote/x");
    second.upsert(&mut *conn).await.unwrap();
    assert_eq!(
        stored(conn, recipient).await,
        (false, true, "https://remote/x".into())
    );
    // From EXCLUDED, ap_id is the trigger's rewrite of the proposed row ...
    first.upsert(&mut *conn).await.unwrap();
    assert_eq!(stored(conn, recipient).await.2, url);
    // ... and with update_from = "sent", the value sent, as Diesel's `.set(&form)` binds.
    let sent = MentionSent {
        recipient,
        comment: 1,
        read: None,
        local: None,
        ap_id: "local".into(),
    };
    sent.upsert(&mut *conn).await.unwrap();
    assert_eq!(stored(conn, recipient).await, (false, true, "local".into()));
    // upsert_returning reads the stored row back, the kept values included.
    let back = mention(recipient, None, None, "local")
        .upsert_returning(&mut *conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, mention(recipient, Some(false), Some(true), &url));
}

#[tokio::test]
async fn none_inserts_the_default_and_keeps_on_update_on_every_executor() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(MENTION).execute(&db.pool).await.unwrap();
    Mention::verify(&db.pool).await.unwrap();
    MentionSent::verify(&db.pool).await.unwrap();

    let mut held = db.pool.acquire().await.unwrap();
    scenario(&mut held, 1).await;
    drop(held);
    let mut tx = db.pool.begin().await.unwrap();
    scenario(&mut tx, 2).await;
    tx.commit().await.unwrap();
    assert_eq!(
        stored(&mut db.pool.acquire().await.unwrap(), 2).await.2,
        "https://local/2/1"
    );

    // insert_or_get: a new key inserts the defaults; a stored one is read back as stored.
    let (got, obtained) = mention(5, None, None, "local")
        .insert_or_get(&db.pool)
        .await
        .unwrap();
    assert_eq!(obtained, Obtained::Inserted);
    assert_eq!(
        got,
        mention(5, Some(false), Some(true), "https://local/5/1")
    );
    let (got, obtained) = mention(5, Some(true), Some(false), "x")
        .insert_or_get(&db.pool)
        .await
        .unwrap();
    assert_eq!(obtained, Obtained::Existing);
    assert_eq!(got.read, Some(false));

    // On the pool itself, and in a batch on both paths.
    let inserted = mention(3, None, None, "local")
        .upsert(&db.pool)
        .await
        .unwrap();
    assert_eq!(inserted, UpsertOutcome::Inserted);
    let stored_3 = || async { stored(&mut db.pool.acquire().await.unwrap(), 3).await };
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        sqlx::query(
            "UPDATE mention SET read = true, local = false, ap_id = 'y' WHERE recipient = 3",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let batch = [
            mention(3, None, None, "local"),
            mention(4, None, Some(false), "https://remote/4"),
        ];
        Mention::upsert_many_via(&db.pool, &batch, path)
            .await
            .unwrap();
        assert_eq!(
            stored_3().await,
            (true, false, "https://local/3/1".into()),
            "{path:?}"
        );
        let four = stored(&mut db.pool.acquire().await.unwrap(), 4).await;
        assert_eq!(four, (false, false, "https://remote/4".into()), "{path:?}");
        let sent = [MentionSent {
            recipient: 3,
            comment: 1,
            read: Some(false),
            local: None,
            ap_id: "local".into(),
        }];
        MentionSent::upsert_many_via(&db.pool, &sent, path)
            .await
            .unwrap();
        assert_eq!(stored_3().await, (false, false, "local".into()), "{path:?}");
    }
    db.finish().await;
}

fn maybe(rng: &mut Rng) -> Option<bool> {
    match rng.below(3) {
        0 => None,
        1 => Some(false),
        _ => Some(true),
    }
}

#[tokio::test]
async fn default_and_sent_batches_match_one_by_one_on_both_paths() {
    let mut rng = Rng(0x00de_f017);
    for _ in 0..6 {
        let db = TestDb::new(1).await;
        let rows = |rng: &mut Rng, n: usize| -> Vec<Mention> {
            (0..n)
                .map(|i| Mention {
                    recipient: rng.int(6),
                    comment: 1,
                    read: maybe(rng),
                    local: maybe(rng),
                    ap_id: if rng.below(2) == 0 {
                        "local".into()
                    } else {
                        format!("https://remote/{i}")
                    },
                })
                .collect()
        };
        let seed = rows(&mut rng, 4);
        let batch = rows(&mut rng, 40);
        bulk_matches_one_by_one(&db, MENTION, "recipient", &seed, &batch).await;
        db.finish().await;

        let db = TestDb::new(1).await;
        let sent = |rows: Vec<Mention>| -> Vec<MentionSent> {
            rows.into_iter()
                .map(|m| MentionSent {
                    recipient: m.recipient,
                    comment: m.comment,
                    read: m.read,
                    local: m.local,
                    ap_id: m.ap_id,
                })
                .collect()
        };
        let seed = sent(rows(&mut rng, 4));
        let batch = sent(rows(&mut rng, 40));
        // The trigger makes the table watch every row: the batch goes in rounds.
        bulk_matches_one_by_one(&db, MENTION, "recipient", &seed, &batch).await;
        db.finish().await;
    }
}

/// `update_from = "sent"` on a column a `BEFORE INSERT` trigger rewrites, a key new to the
/// table and repeated in one batch: one by one, the first row inserts (the trigger rewrites
/// it) and the second updates with the value sent. The table has a row trigger, so the
/// batch goes in rounds of distinct keys and stores the same.
#[tokio::test]
async fn sent_values_and_a_rewriting_trigger_on_a_key_new_and_repeated_in_a_batch() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(MENTION).execute(&db.pool).await.unwrap();
    let row = |recipient| MentionSent {
        recipient,
        comment: 1,
        read: None,
        local: None,
        ap_id: "local".into(),
    };
    // Key 1 is stored before; key 2 is new.
    row(1).upsert(&db.pool).await.unwrap();
    let batch = [row(1), row(2), row(2)];
    MentionSent::upsert_many(&db.pool, &batch).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        stored(&mut conn, 1).await.2,
        "local",
        "stored key: the value sent"
    );
    assert_eq!(
        stored(&mut conn, 2).await.2,
        "local",
        "new repeated key: inserted through the trigger, then updated with the value sent"
    );
    drop(conn);
    db.finish().await;
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "mention")]
struct WrongDefault {
    #[conflict_key]
    recipient: i32,
    #[conflict_key]
    comment: i32,
    #[upsert(default = "true")]
    read: Option<bool>,
    #[upsert(default = "'x'")]
    ap_id: Option<String>,
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "mention")]
struct NoneAsNull {
    #[conflict_key]
    recipient: i32,
    #[conflict_key]
    comment: i32,
    read: Option<bool>,
    ap_id: String,
}

#[tokio::test]
async fn verify_checks_the_declared_default_against_the_catalog() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(MENTION).execute(&db.pool).await.unwrap();
    let Err(Error::SchemaMismatch(report)) = WrongDefault::verify(&db.pool).await else {
        panic!("a default other than the column's must not verify");
    };
    let found = &report.structs()[0].mismatches;
    let read = found
        .iter()
        .find(|m| m.field.as_deref() == Some("read"))
        .unwrap();
    assert_eq!(read.kind, MismatchKind::ColumnDefault, "{read}");
    assert!(
        read.fix.contains(r#"#[upsert(default = "false")]"#),
        "{read}"
    );
    let ap_id = found
        .iter()
        .find(|m| m.field.as_deref() == Some("ap_id"))
        .unwrap();
    assert_eq!(ap_id.kind, MismatchKind::ColumnDefault, "{ap_id}");
    assert!(ap_id.fix.contains("SET DEFAULT 'x'"), "{ap_id}");
    assert_eq!(found.len(), 2, "{report}");

    // An `Option` on a NOT NULL column with a default: the fix is the attribute, with the
    // catalog's expression; and the failure it predicts is real.
    let Err(Error::SchemaMismatch(report)) = NoneAsNull::verify(&db.pool).await else {
        panic!("None sent as NULL into NOT NULL must not verify");
    };
    let m = &report.structs()[0].mismatches[0];
    assert_eq!(m.kind, MismatchKind::NullableField, "{m}");
    assert!(m.fix.starts_with(r#"#[upsert(default = "false")]"#), "{m}");
    let failed = NoneAsNull {
        recipient: 9,
        comment: 1,
        read: None,
        ap_id: "x".into(),
    }
    .upsert(&db.pool)
    .await;
    assert!(
        matches!(failed, Err(Error::NotNullViolation { .. })),
        "{failed:?}"
    );
    // The pool and the table are as they were.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM mention")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    db.finish().await;
}

/// A NULL key that conflicts (`NULLS NOT DISTINCT`): a batch reads whether `None` was sent
/// from the looked-up value, which matches a NULL key where `IN` cannot.
#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "slots", nulls_not_distinct)]
struct Seat {
    #[conflict_key]
    slot: Option<i32>,
    #[upsert(default = "7")]
    size: Option<i32>,
    note: String,
}

#[tokio::test]
async fn default_batches_match_one_by_one_with_null_keys_that_conflict() {
    const SLOTS: &str = "CREATE TABLE slots (slot int4 UNIQUE NULLS NOT DISTINCT, \
                         size int4 NOT NULL DEFAULT 7, note text NOT NULL)";
    let mut rng = Rng(0x510f);
    for _ in 0..6 {
        let db = TestDb::new(1).await;
        let rows = |rng: &mut Rng, n: usize| -> Vec<Seat> {
            (0..n)
                .map(|i| Seat {
                    slot: (rng.below(3) > 0).then(|| rng.int(4)),
                    size: (rng.below(2) > 0).then(|| rng.int(100)),
                    note: format!("n{i}"),
                })
                .collect()
        };
        let seed = rows(&mut rng, 3);
        let batch = rows(&mut rng, 30);
        bulk_matches_one_by_one(&db, SLOTS, "slot NULLS FIRST", &seed, &batch).await;
        db.finish().await;
    }
}
