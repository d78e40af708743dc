//! `verify`: each kind of mismatch on a table of its own, reported before any write with the
//! field, the column and the fix; a struct using every attribute verifies clean on every
//! path (pool, held connection, caller's transaction); nothing is written and the caller's
//! transaction stays usable.

use atomic_upsert::schema::{Mismatch, MismatchKind};
use atomic_upsert::sqlx::types::Json;
use atomic_upsert::sqlx::{self, Row as _};
use atomic_upsert::{AtomicUpsert, Error};
use upsert_testkit::TestDb;

/// Runs `ddl`, then `T::verify`; the mismatches (none when it verifies).
async fn mismatches<T: AtomicUpsert>(db: &TestDb, ddl: &str) -> Vec<Mismatch> {
    if !ddl.is_empty() {
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    }
    match T::verify(&db.pool).await {
        Ok(()) => Vec::new(),
        Err(Error::SchemaMismatch(report)) => {
            assert_eq!(report.structs().len(), 1, "{report}");
            report.structs()[0].mismatches.clone()
        }
        Err(other) => panic!("verify failed otherwise: {other}"),
    }
}

/// The one mismatch of `kind`, asserting its field, column and a piece of its fix.
fn one<'m>(
    found: &'m [Mismatch],
    kind: MismatchKind,
    field: Option<&str>,
    column: Option<&str>,
    fix: &str,
) -> &'m Mismatch {
    let hits: Vec<&Mismatch> = found
        .iter()
        .filter(|m| m.kind == kind && m.field.as_deref() == field)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "one {kind:?} of {field:?} expected in {found:#?}"
    );
    let m = hits[0];
    assert_eq!(m.field.as_deref(), field, "{m}");
    assert_eq!(m.column.as_deref(), column, "{m}");
    assert!(m.fix.contains(fix), "fix {:?} lacks {fix:?}", m.fix);
    m
}

/// Every attribute of the README at once.
#[derive(AtomicUpsert)]
#[upsert(table = "everything", skip_unchanged)]
struct Everything {
    #[conflict_key]
    athlete: i64,
    #[conflict_key]
    #[upsert(rename = "day")]
    day_name: String,
    #[upsert(insert_only)]
    first_seen: String,
    #[upsert(skip)]
    note: Option<String>,
    #[upsert(created_at)]
    created_at: (),
    #[upsert(updated_at)]
    updated_at: (),
    #[upsert(add)]
    rides: i64,
    #[upsert(greatest)]
    longest: i32,
    #[upsert(least)]
    fastest: f64,
    #[upsert(coalesce)]
    city: Option<String>,
    #[upsert(merge)]
    gear: Json<serde_json::Value>,
    #[upsert(version)]
    seq: i64,
}

const EVERYTHING: &str = "CREATE TABLE everything (athlete int8 NOT NULL, day text NOT NULL, \
    first_seen text NOT NULL, note text, created_at timestamptz NOT NULL, \
    updated_at timestamptz NOT NULL, rides int8 NOT NULL, longest int4 NOT NULL, \
    fastest float8 NOT NULL, city text, gear jsonb NOT NULL, seq int8 NOT NULL, \
    extra text NOT NULL DEFAULT '', PRIMARY KEY (athlete, day))";

#[tokio::test]
async fn every_attribute_verifies_clean_on_every_path() {
    let db = TestDb::new(2).await;
    assert!(mismatches::<Everything>(&db, EVERYTHING).await.is_empty());
    let mut conn = db.pool.acquire().await.unwrap();
    Everything::verify(&mut *conn).await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    Everything::verify(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    db.finish().await;
}

/// The struct attributes `Everything` does not use: `schema`, `constraint`, `update_where`; and a
/// field on a domain over its type.
#[derive(AtomicUpsert)]
#[upsert(
    schema = "verify_app",
    table = "auth",
    constraint = "auth_pkey",
    update_where = "NOT auth.locked"
)]
struct AuthRow {
    #[conflict_key]
    id: i32,
    token: String,
    expires_at: i64,
}

#[tokio::test]
async fn schema_constraint_update_where_and_a_domain_verify_clean() {
    let db = TestDb::new(1).await;
    let ddl = "CREATE SCHEMA IF NOT EXISTS verify_app; \
        DROP TABLE IF EXISTS verify_app.auth; DROP DOMAIN IF EXISTS verify_app.epoch; \
        CREATE DOMAIN verify_app.epoch AS int8 CHECK (VALUE > 0); \
        CREATE TABLE verify_app.auth (id int4 CONSTRAINT auth_pkey PRIMARY KEY, token text NOT NULL, \
          expires_at verify_app.epoch NOT NULL, locked bool NOT NULL DEFAULT false)";
    assert!(mismatches::<AuthRow>(&db, ddl).await.is_empty());
    AuthRow {
        id: 1,
        token: "t".into(),
        expires_at: 10,
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql("DROP SCHEMA verify_app CASCADE")
        .execute(&db.pool)
        .await
        .unwrap();
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "frozen", update_where = "NOT frozen.is_frozen")]
struct Frozen {
    #[conflict_key]
    id: i64,
    v: i64,
}

#[tokio::test]
async fn what_only_postgres_can_tell_is_reported_from_its_plan() {
    let db = TestDb::new(1).await;
    // `update_where` names a column the table lacks: no rule knows, PostgreSQL does.
    let found = mismatches::<Frozen>(
        &db,
        "CREATE TABLE frozen (id int8 PRIMARY KEY, v int8 NOT NULL, frozen bool NOT NULL DEFAULT false)",
    )
    .await;
    let m = one(&found, MismatchKind::Statement, None, None, "attributes");
    assert!(
        m.has.contains("is_frozen") && m.has.contains("42703"),
        "{m}"
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "nowhere")]
struct NoTable {
    #[conflict_key]
    id: i64,
}

#[tokio::test]
async fn a_missing_table() {
    let db = TestDb::new(1).await;
    let found = mismatches::<NoTable>(&db, "").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    one(
        &found,
        MismatchKind::MissingTable,
        None,
        None,
        "#[upsert(table",
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "misspelled")]
struct Misspelled {
    #[conflict_key]
    id: i64,
    #[upsert(rename = "stats_typ")]
    stats_type: String,
    totalkm: f64,
}

#[tokio::test]
async fn a_missing_column_suggests_the_rename_or_the_alter() {
    let db = TestDb::new(1).await;
    let found = mismatches::<Misspelled>(
        &db,
        "CREATE TABLE misspelled (id int8 PRIMARY KEY, stats_type text NOT NULL, total_km float8 NOT NULL DEFAULT 0)",
    )
    .await;
    one(
        &found,
        MismatchKind::MissingColumn,
        Some("stats_type"),
        Some("stats_typ"),
        r#"did you mean "stats_type"? #[upsert(rename = "stats_type")]"#,
    );
    one(
        &found,
        MismatchKind::MissingColumn,
        Some("totalkm"),
        Some("totalkm"),
        r#"#[upsert(rename = "total_km")]"#,
    );
    db.finish().await;
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "wrong_types")]
struct WrongTypes {
    #[conflict_key]
    id: i64,
    /// `text` column: every `i64` is stored as its text and read back exactly.
    score: i64,
    /// `integer` column: a large value fails the write.
    total: i64,
    /// `bigint` column: PostgreSQL has no assignment from text, every write fails (42804).
    label: String,
    /// `bigint` column, kept on update: a stored value above `i32::MAX` reads back into
    /// nothing.
    #[upsert(insert_only)]
    small: i32,
}

/// The type verdicts follow what the statements do: a column that holds every value of the
/// field and gives it back passes, any other is reported, with the field's type as the first
/// fix and never a DDL that narrows a column.
#[tokio::test]
async fn field_types_pass_exactly_when_every_value_goes_and_comes_back() {
    let db = TestDb::new(1).await;
    let ddl = "CREATE TABLE wrong_types (id int8 PRIMARY KEY, score text NOT NULL, \
        total int4 NOT NULL, label int8 NOT NULL, small int8 NOT NULL)";
    let found = mismatches::<WrongTypes>(&db, ddl).await;
    let total = one(
        &found,
        MismatchKind::ColumnType,
        Some("total"),
        Some("total"),
        "make the field `i32`",
    );
    assert!(
        total
            .fix
            .ends_with(r#"ALTER TABLE "wrong_types" ALTER COLUMN "total" TYPE int8;"#),
        "{total}"
    );
    let label = one(
        &found,
        MismatchKind::ColumnType,
        Some("label"),
        Some("label"),
        "make the field `i64`",
    );
    assert!(
        !label.fix.contains("ALTER"),
        "a text column would break the application: {label}"
    );
    let small = one(
        &found,
        MismatchKind::ColumnType,
        Some("small"),
        Some("small"),
        "make the field `i64`",
    );
    assert!(
        !small.fix.contains("TYPE int4"),
        "never a narrowing DDL: {small}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    // Each reached.
    let row = |total: i64| WrongTypes {
        id: 1,
        score: i64::MIN,
        total,
        label: "x".into(),
        small: 1,
    };
    sqlx::query("ALTER TABLE wrong_types ALTER COLUMN label TYPE text")
        .execute(&db.pool)
        .await
        .unwrap();
    let error = row(i64::MAX).upsert(&db.pool).await.unwrap_err();
    assert!(error.to_string().contains("22003"), "{error}");
    sqlx::query("INSERT INTO wrong_types VALUES (1, '0', 0, 'x', 5000000000)")
        .execute(&db.pool)
        .await
        .unwrap();
    let error = row(7).upsert_returning(&db.pool).await.unwrap_err();
    assert!(error.to_string().contains("out of range"), "{error}");
    // And the text column passes because it holds any i64 and gives it back.
    sqlx::query("UPDATE wrong_types SET small = 1")
        .execute(&db.pool)
        .await
        .unwrap();
    let stored = row(7).upsert_returning(&db.pool).await.unwrap().unwrap();
    assert_eq!(stored.score, i64::MIN);
    db.finish().await;
}

#[derive(AtomicUpsert, Debug)]
#[upsert(table = "nullability")]
struct Nullability {
    #[conflict_key]
    id: i64,
    /// `NOT NULL` column: a `None` fails the insert.
    nickname: Option<String>,
    /// Nullable column, written on insert and on update: never read back NULL.
    email: String,
    /// Nullable column, left as stored on update: reads back what another writer stored.
    #[upsert(insert_only)]
    first_seen: String,
    /// Nullable counter: `NULL + n` is NULL.
    #[upsert(add)]
    visits: i64,
    /// `greatest` takes the incoming value over a stored NULL.
    #[upsert(greatest)]
    best: i64,
}

const NULLABILITY: &str = "CREATE TABLE nullability (id int8 PRIMARY KEY, nickname text NOT NULL, \
     email text, first_seen text, visits int8, best int8)";

fn visitor(id: i64, nickname: Option<&str>) -> Nullability {
    Nullability {
        id,
        nickname: nickname.map(str::to_owned),
        email: "a@example.com".into(),
        first_seen: "today".into(),
        visits: 1,
        best: 5,
    }
}

/// Each alarm is one the statements can reach, and a column they always write is no alarm.
#[tokio::test]
async fn nullability_alarms_exactly_where_the_statements_can_fail() {
    let db = TestDb::new(1).await;
    let found = mismatches::<Nullability>(&db, NULLABILITY).await;
    one(
        &found,
        MismatchKind::NullableField,
        Some("nickname"),
        Some("nickname"),
        "make the field non-Option",
    );
    let kept = one(
        &found,
        MismatchKind::NullableColumn,
        Some("first_seen"),
        Some("first_seen"),
        "make the field an Option",
    );
    assert!(kept.needs.contains("leaves the column as stored"), "{kept}");
    let counter = one(
        &found,
        MismatchKind::NullableColumn,
        Some("visits"),
        Some("visits"),
        r#"#[upsert(add, nulls = "zero")] on the field"#,
    );
    assert!(
        counter
            .fix
            .contains(r#"SET "visits" = 0 WHERE "visits" IS NULL"#),
        "{counter}"
    );
    // `email` (always written) and `best` (greatest over NULL is the incoming value): no alarm.
    assert_eq!(found.len(), 3, "{found:#?}");

    // Reached: a None into the NOT NULL column fails, and writes nothing.
    let error = visitor(1, None).upsert(&db.pool).await.unwrap_err();
    assert!(matches!(error, Error::NotNullViolation { .. }), "{error}");
    // Reached: another writer's row with NULLs. The insert_only column and the counter
    // stay NULL through the update, and the row cannot be read back into the struct.
    sqlx::query("INSERT INTO nullability (id, nickname) VALUES (2, 'n')")
        .execute(&db.pool)
        .await
        .unwrap();
    let error = visitor(2, Some("n"))
        .upsert_returning(&db.pool)
        .await
        .unwrap_err();
    let Error::Unreadable { column, .. } = &error else {
        panic!("expected Unreadable: {error}");
    };
    assert!(
        matches!(column.as_deref(), Some("first_seen" | "visits")),
        "{error}"
    );
    // Not reached: over the NULLs of the always-written and the greatest column, a struct
    // without the alarmed fields reads back what it wrote.
    sqlx::query("UPDATE nullability SET first_seen = 'then', visits = 0 WHERE id = 2")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO nullability (id, nickname, first_seen, visits) VALUES (3, 'n', 'then', 0)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let stored = visitor(3, Some("n"))
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.email.as_str(), stored.best), ("a@example.com", 5));
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "unwritten")]
struct Unwritten {
    #[conflict_key]
    id: i64,
    #[upsert(skip)]
    owner: Option<String>,
}

#[tokio::test]
async fn a_not_null_column_the_struct_never_writes() {
    let db = TestDb::new(1).await;
    let found = mismatches::<Unwritten>(
        &db,
        "CREATE TABLE unwritten (id int8 PRIMARY KEY, owner text NOT NULL, \
         made timestamptz NOT NULL DEFAULT now(), n int8 GENERATED ALWAYS AS IDENTITY)",
    )
    .await;
    one(
        &found,
        MismatchKind::UnwrittenNotNull,
        None,
        Some("owner"),
        "SET DEFAULT",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "no_index")]
struct NoIndex {
    #[conflict_key]
    email: String,
    name: String,
}

#[tokio::test]
async fn no_unique_index_and_the_fix_that_makes_it_verify() {
    let db = TestDb::new(1).await;
    let found = mismatches::<NoIndex>(
        &db,
        "CREATE TABLE no_index (email text NOT NULL, name text NOT NULL); \
         CREATE INDEX ON no_index (email)",
    )
    .await;
    let m = one(
        &found,
        MismatchKind::NoUniqueIndex,
        None,
        None,
        r#"CREATE UNIQUE INDEX "no_index_email_key" ON "no_index" ("email");"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(mismatches::<NoIndex>(&db, &m.fix).await.is_empty());
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "users", conflict_where = "NOT archived")]
struct WrongPredicate {
    #[conflict_key]
    email: String,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(table = "users", conflict_where = "NOT deleted")]
struct RightPredicate {
    #[conflict_key]
    email: String,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(table = "users")]
struct NoPredicate {
    #[conflict_key]
    email: String,
    name: String,
}

#[tokio::test]
async fn a_partial_unique_index_needs_its_predicate() {
    let db = TestDb::new(1).await;
    let ddl = "CREATE TABLE users (email text NOT NULL, name text NOT NULL, \
        deleted bool NOT NULL DEFAULT false, archived bool NOT NULL DEFAULT false); \
        CREATE UNIQUE INDEX users_live ON users (email) WHERE NOT deleted";
    let found = mismatches::<WrongPredicate>(&db, ddl).await;
    one(
        &found,
        MismatchKind::PartialIndex,
        None,
        None,
        r#"conflict_where = "(NOT deleted)""#,
    );
    assert!(found.len() <= 2, "{found:#?}");
    let found = mismatches::<NoPredicate>(&db, "").await;
    one(
        &found,
        MismatchKind::PartialIndex,
        None,
        None,
        "conflict_where",
    );
    assert!(mismatches::<RightPredicate>(&db, "").await.is_empty());
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "auth", constraint = "auth_token_key")]
struct WrongConstraint {
    #[conflict_key]
    id: i32,
    token: String,
}

#[tokio::test]
async fn a_named_constraint_that_is_missing() {
    let db = TestDb::new(1).await;
    let found = mismatches::<WrongConstraint>(
        &db,
        "CREATE TABLE auth (id int4 CONSTRAINT auth_pkey PRIMARY KEY, token text NOT NULL)",
    )
    .await;
    one(
        &found,
        MismatchKind::Constraint,
        None,
        None,
        r#"ADD CONSTRAINT "auth_token_key" UNIQUE ("id")"#,
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "nullable_key")]
struct NullableKey {
    #[conflict_key]
    team: i64,
    #[conflict_key]
    slot: Option<i32>,
    player: String,
}

#[derive(AtomicUpsert)]
#[upsert(table = "nullable_key", nulls_not_distinct)]
struct NullableKeyNotDistinct {
    #[conflict_key]
    team: i64,
    #[conflict_key]
    slot: Option<i32>,
    player: String,
}

#[tokio::test]
async fn an_option_key_needs_nulls_not_distinct() {
    let db = TestDb::new(1).await;
    let ddl = "CREATE TABLE nullable_key (team int8 NOT NULL, slot int4, player text NOT NULL); \
        CREATE UNIQUE INDEX nk ON nullable_key (team, slot)";
    let found = mismatches::<NullableKey>(&db, ddl).await;
    one(
        &found,
        MismatchKind::NullableKey,
        Some("slot"),
        Some("slot"),
        "NULLS NOT DISTINCT",
    );
    let fixed =
        "DROP INDEX nk; CREATE UNIQUE INDEX nk ON nullable_key (team, slot) NULLS NOT DISTINCT";
    // The index now folds NULL keys; the struct must say so, or its batches would not.
    let found = mismatches::<NullableKey>(&db, fixed).await;
    one(
        &found,
        MismatchKind::NullableKey,
        Some("slot"),
        Some("slot"),
        "#[upsert(nulls_not_distinct)]",
    );
    assert!(
        mismatches::<NullableKeyNotDistinct>(&db, "")
            .await
            .is_empty()
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "ci_key")]
struct CaseInsensitiveKey {
    #[conflict_key]
    email: String,
    name: String,
}

#[tokio::test]
async fn a_key_whose_equality_is_not_bytewise() {
    let db = TestDb::new(1).await;
    let ddl = "CREATE COLLATION IF NOT EXISTS ci_und (provider = icu, locale = 'und-u-ks-level2', deterministic = false); \
        CREATE TABLE ci_key (email text COLLATE ci_und PRIMARY KEY, name text NOT NULL)";
    let found = mismatches::<CaseInsensitiveKey>(&db, ddl).await;
    one(
        &found,
        MismatchKind::KeyEquality,
        Some("email"),
        Some("email"),
        r#"#[upsert(collate = "ci_und")]"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        mismatches::<CaseInsensitiveKeyFolded>(&db, "")
            .await
            .is_empty()
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "ci_key")]
struct CaseInsensitiveKeyFolded {
    #[conflict_key]
    #[upsert(collate = "ci_und")]
    email: String,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(table = "citext_key")]
struct CitextKey {
    #[conflict_key]
    email: String,
    name: String,
}

#[tokio::test]
async fn a_citext_key_is_reported_and_the_batch_it_would_break_is_real() {
    let db = TestDb::new(1).await;
    crate::support::citext(&db).await;
    let ddl = "CREATE TABLE citext_key (email au_ext.citext PRIMARY KEY, name text NOT NULL)";
    let found = mismatches::<CitextKey>(&db, ddl).await;
    one(
        &found,
        MismatchKind::KeyEquality,
        Some("email"),
        Some("email"),
        r#"#[upsert(sql_type = "citext")]"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    // What verify warns about: two spellings of one citext key in a batch.
    let rows = [
        CitextKey {
            email: "Ann@example.com".into(),
            name: "a".into(),
        },
        CitextKey {
            email: "ann@example.com".into(),
            name: "b".into(),
        },
    ];
    assert!(CitextKey::upsert_many(&db.pool, &rows).await.is_err());
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "strategy_types", skip_unchanged)]
struct StrategyTypes {
    #[conflict_key]
    id: i64,
    #[upsert(add)]
    visits: i64,
    #[upsert(merge)]
    attrs: Json<serde_json::Value>,
    #[upsert(greatest)]
    best: i64,
}

#[tokio::test]
async fn strategies_and_skip_unchanged_on_column_types_that_cannot_work() {
    let db = TestDb::new(1).await;
    let found = mismatches::<StrategyTypes>(
        &db,
        "CREATE TABLE strategy_types (id int8 PRIMARY KEY, visits text NOT NULL, \
         attrs json NOT NULL, best int8 NOT NULL)",
    )
    .await;
    let add = found
        .iter()
        .find(|m| m.field.as_deref() == Some("visits") && m.kind == MismatchKind::StrategyType)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(add.needs.contains("numeric"), "{add}");
    let merge = found
        .iter()
        .find(|m| m.field.as_deref() == Some("attrs") && m.kind == MismatchKind::StrategyType)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(merge.needs.contains("jsonb"), "{merge}");
    one(
        &found,
        MismatchKind::NoEquality,
        Some("attrs"),
        Some("attrs"),
        "TYPE jsonb",
    );
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "a_view")]
struct OnView {
    #[conflict_key]
    id: i64,
}

#[derive(AtomicUpsert)]
#[upsert(table = "events")]
struct Partitioned {
    #[conflict_key]
    id: i64,
    day: String,
    #[upsert(skip)]
    generated: Option<i64>,
}

#[derive(AtomicUpsert)]
#[upsert(table = "events_gen")]
struct WritesGenerated {
    #[conflict_key]
    id: i64,
    doubled: i64,
}

#[tokio::test]
async fn views_partition_keys_and_generated_columns() {
    let db = TestDb::new(1).await;
    let found = mismatches::<OnView>(&db, "CREATE VIEW a_view AS SELECT 1::int8 AS id").await;
    one(
        &found,
        MismatchKind::NotATable,
        None,
        None,
        "underlying table",
    );
    let found = mismatches::<Partitioned>(
        &db,
        "CREATE TABLE events (id int8 NOT NULL, day text NOT NULL, generated int8) PARTITION BY LIST (day); \
         CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a')",
    )
    .await;
    let m = one(
        &found,
        MismatchKind::NoUniqueIndex,
        None,
        None,
        "partition key",
    );
    assert!(m.needs.contains("(day)"), "{m}");
    let found = mismatches::<WritesGenerated>(
        &db,
        "CREATE TABLE events_gen (id int8 PRIMARY KEY, doubled int8 GENERATED ALWAYS AS (id * 2) STORED)",
    )
    .await;
    one(
        &found,
        MismatchKind::GeneratedColumn,
        Some("doubled"),
        Some("doubled"),
        "#[upsert(skip)]",
    );
    db.finish().await;
}

#[tokio::test]
async fn the_report_lists_every_mismatch_one_line_each_and_writes_nothing() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE nullability (id int8, nickname text NOT NULL, email text, first_seen text, \
         visits int8, best int8, owner text NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // Inside a caller's transaction: the report comes back and the transaction goes on.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("INSERT INTO nullability VALUES (1, 'a', 'b', 'c', 1, 1, 'd')")
        .execute(&mut *tx)
        .await
        .unwrap();
    let Err(Error::SchemaMismatch(report)) = Nullability::verify(&mut *tx).await else {
        panic!("expected a mismatch");
    };
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + report.mismatches().count(), "{text}");
    assert!(report.mismatches().count() >= 4, "{text}");
    for line in &lines[1..] {
        assert!(
            line.starts_with("  Nullability (table \"nullability\"): "),
            "{line}"
        );
        assert!(line.contains("; fix: "), "{line}");
    }
    assert!(text.contains("CREATE UNIQUE INDEX"), "{text}");
    tx.commit().await.unwrap();
    let n: i64 = sqlx::query("SELECT count(*) FROM nullability")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "a_table_whose_name_is_long_enough_to_make_the_index_name_too_lo")]
struct LongName {
    #[conflict_key]
    identifier_of_the_row: i64,
    value: i64,
}

#[tokio::test]
async fn the_index_fix_runs_for_a_63_byte_table_name() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE TABLE a_table_whose_name_is_long_enough_to_make_the_index_name_too_lo \
         (identifier_of_the_row int8 NOT NULL, value int8 NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let row = LongName {
        identifier_of_the_row: 1,
        value: 2,
    };
    let Err(Error::NoMatchingUniqueIndex { fix, .. }) = row.upsert(&db.pool).await else {
        panic!("expected NoMatchingUniqueIndex");
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(fix.as_str()))
        .execute(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{fix}: {e}"));
    row.upsert(&db.pool).await.unwrap();
    LongName::verify(&db.pool).await.unwrap();
    db.finish().await;
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "seats")]
struct Seat {
    #[conflict_key]
    seat: i32,
    holder: String,
}

/// A `DEFERRABLE` unique constraint is no arbiter: `verify` says so before the first write
/// fails, and its fix makes the upsert work.
#[tokio::test]
async fn a_deferrable_constraint_is_found_before_the_first_write() {
    let db = TestDb::new(1).await;
    let found = mismatches::<Seat>(
        &db,
        "CREATE TABLE seats (seat int4 CONSTRAINT seats_seat_key UNIQUE DEFERRABLE INITIALLY DEFERRED, holder text NOT NULL)",
    )
    .await;
    let m = one(
        &found,
        MismatchKind::DeferrableConstraint,
        None,
        None,
        r#"ALTER TABLE "seats" DROP CONSTRAINT "seats_seat_key", ADD CONSTRAINT "seats_seat_key" UNIQUE ("seat");"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let row = Seat {
        seat: 1,
        holder: "ann".into(),
    };
    let error = row.upsert(&db.pool).await.unwrap_err();
    assert!(matches!(error, Error::DeferrableArbiter { .. }), "{error}");
    let fix = m.fix.split(" (first check").next().unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(fix))
        .execute(&db.pool)
        .await
        .unwrap();
    Seat::verify(&db.pool).await.unwrap();
    row.upsert(&db.pool).await.unwrap();
    row.upsert(&db.pool).await.unwrap();
    db.finish().await;
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "handles", conflict_where = "NOT retired")]
struct Handle {
    #[conflict_key]
    handle: String,
    owner: i64,
}

/// `conflict_where` over an index that is not partial: PostgreSQL ignores the predicate (a
/// retired row is overwritten), and `verify` says so.
#[tokio::test]
async fn a_conflict_where_over_a_plain_index_is_reported() {
    let db = TestDb::new(1).await;
    let found = mismatches::<Handle>(
        &db,
        "CREATE TABLE handles (handle text NOT NULL UNIQUE, owner int8 NOT NULL, retired bool NOT NULL DEFAULT false)",
    )
    .await;
    one(
        &found,
        MismatchKind::IgnoredPredicate,
        None,
        None,
        "remove #[upsert(conflict_where)]",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    // Reached: the retired row, outside the predicate, is updated all the same.
    sqlx::query("INSERT INTO handles VALUES ('ann', 1, true)")
        .execute(&db.pool)
        .await
        .unwrap();
    Handle {
        handle: "ann".into(),
        owner: 2,
    }
    .upsert(&db.pool)
    .await
    .unwrap();
    let (owner, retired): (i64, bool) = sqlx::query_as("SELECT owner, retired FROM handles")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((owner, retired), (2, true));
    db.finish().await;
}

#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "docs_text")]
struct TextDoc {
    #[conflict_key]
    id: i64,
    #[upsert(merge)]
    body: Json<serde_json::Value>,
}

/// `merge` on a `text` column: the statement itself fails before writing, on every path,
/// with or without `verify`; the table stays as it was and the pool stays usable.
#[tokio::test]
async fn merge_on_text_fails_before_writing_on_every_path() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(
        "CREATE TABLE docs_text (id int8 PRIMARY KEY, body text NOT NULL); \
                   INSERT INTO docs_text VALUES (1, '{\"a\": 1}')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let doc = |id| TextDoc {
        id,
        body: Json(serde_json::json!({"b": 2})),
    };
    let failures = [
        doc(1).upsert(&db.pool).await.map(drop),
        doc(1).upsert_returning(&db.pool).await.map(drop),
        TextDoc::upsert_many_via(&db.pool, &[doc(1), doc(2)], atomic_upsert::BulkPath::Unnest)
            .await
            .map(drop),
        TextDoc::upsert_many_via(&db.pool, &[doc(1), doc(2)], atomic_upsert::BulkPath::Copy)
            .await
            .map(drop),
    ];
    for failure in failures {
        let error = failure.unwrap_err();
        assert!(error.to_string().contains("jsonb_concat"), "{error}");
    }
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, body FROM docs_text ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, vec![(1, r#"{"a": 1}"#.to_owned())]);
    let found = TextDoc::verify(&db.pool).await.unwrap_err().to_string();
    assert!(
        found.contains("a jsonb column for #[upsert(merge)]"),
        "{found}"
    );
    db.finish().await;
}
