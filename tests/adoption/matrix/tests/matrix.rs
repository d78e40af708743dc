//! The conformance matrix: every field type of the README's type table, under every strategy
//! it compiles with, against every common column type (nullable and `NOT NULL`). For each
//! cell it asserts that `verify` is `Ok` **if and only if** `upsert`, `upsert_returning` and
//! `upsert_many` on both paths (`UNNEST` and `COPY`) succeed and store (and read back) exactly
//! the value one-by-one application gives, also over rows another writer stored (a NULL, the
//! column's extreme value). The build-time check (what the derive reports from a schema
//! snapshot) is run on the same table: it must give the same verdict, except on the types it
//! cannot see (a `#[derive(sqlx::Type)]` enum or newtype), where it stays silent and only
//! `verify` speaks.
//!
//! On failure the test prints every disagreeing cell: a cell where `verify` and the
//! statements disagree is a bug in `verify` or in the statement.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use atomic_upsert::schema::MismatchKind;
use atomic_upsert::sqlx::postgres::PgConnection;
use atomic_upsert::sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use atomic_upsert::sqlx::types::{BigDecimal, BitVec, Decimal, Json, JsonValue, Uuid};
use atomic_upsert::sqlx::types::{ipnet::IpNet, ipnetwork::IpNetwork, mac_address::MacAddress};
use atomic_upsert::sqlx::{AssertSqlSafe, Connection as _};
use atomic_upsert::{Addable, AtomicUpsert, BulkPath, Error, Obtained};
use upsert_testkit::TestDb;

#[derive(sqlx::Type, Debug, Clone, Copy, PartialEq)]
#[sqlx(type_name = "mood", rename_all = "lowercase")]
enum Mood {
    Happy,
    Grumpy,
}

#[derive(sqlx::Type, Debug, Clone, Copy, PartialEq)]
#[sqlx(transparent)]
struct Cents(i64);

impl Addable for Cents {}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, other: Cents) -> Cents {
        Cents(self.0 + other.0)
    }
}

/// A newtype for a domain: sqlx sends it as the domain's type.
#[derive(sqlx::Type, Debug, Clone, PartialEq)]
#[sqlx(type_name = "email")]
struct Email(String);

/// One column type of the matrix: its DDL, values another writer may have stored (the
/// type's extremes, which a narrower field cannot hold), and for counters a large value
/// that a small increment does not overflow.
struct Column {
    ddl: &'static str,
    foreign: &'static [&'static str],
    counter: &'static str,
}

const COLUMNS: &[Column] = &[
    Column {
        ddl: "int2",
        foreign: &["32767", "-32768"],
        counter: "16000",
    },
    Column {
        ddl: "int4",
        foreign: &["2147483647", "-2147483648"],
        counter: "1000000000",
    },
    Column {
        ddl: "int8",
        foreign: &["9223372036854775807", "-9223372036854775808"],
        counter: "4000000000000000000",
    },
    Column {
        ddl: "numeric",
        foreign: &["1e20", "-1e20"],
        counter: "1e20",
    },
    Column {
        ddl: "float4",
        foreign: &["3.4e38", "-3.4e38"],
        counter: "1e38",
    },
    Column {
        ddl: "float8",
        foreign: &["1e308", "-1e308"],
        counter: "1e300",
    },
    Column {
        ddl: "text",
        foreign: &["'foreign'", "'back\\slash'"],
        counter: "'foreign'",
    },
    Column {
        ddl: "varchar(16)",
        foreign: &["'foreign'", "'back\\slash'"],
        counter: "'foreign'",
    },
    Column {
        ddl: "citext",
        foreign: &["'Foreign'", "'back\\slash'"],
        counter: "'Foreign'",
    },
    Column {
        ddl: "bool",
        foreign: &["true"],
        counter: "true",
    },
    Column {
        ddl: "bytea",
        foreign: &["'\\x00ff'"],
        counter: "'\\x00ff'",
    },
    Column {
        ddl: "uuid",
        foreign: &["'00000000-0000-0000-0000-0000000000ff'"],
        counter: "'00000000-0000-0000-0000-0000000000ff'",
    },
    Column {
        ddl: "date",
        foreign: &["'2001-02-03'"],
        counter: "'2001-02-03'",
    },
    Column {
        ddl: "time",
        foreign: &["'04:05:06'"],
        counter: "'04:05:06'",
    },
    Column {
        ddl: "timestamp",
        foreign: &["'2001-02-03 04:05:06'"],
        counter: "'2001-02-03 04:05:06'",
    },
    Column {
        ddl: "timestamptz",
        foreign: &["'2001-02-03 04:05:06+00'"],
        counter: "'2001-02-03 04:05:06+00'",
    },
    Column {
        ddl: "json",
        foreign: &["'{\"f\": 1}'"],
        counter: "'{\"f\": 1}'",
    },
    Column {
        ddl: "jsonb",
        foreign: &["'{\"f\": 1}'"],
        counter: "'{\"f\": 1}'",
    },
    Column {
        ddl: "inet",
        foreign: &["'192.168.0.1'"],
        counter: "'192.168.0.1'",
    },
    Column {
        ddl: "cidr",
        foreign: &["'10.0.0.0/8'"],
        counter: "'10.0.0.0/8'",
    },
    Column {
        ddl: "macaddr",
        foreign: &["'08:00:2b:01:02:03'"],
        counter: "'08:00:2b:01:02:03'",
    },
    Column {
        ddl: "varbit",
        foreign: &["'101'"],
        counter: "'101'",
    },
    Column {
        ddl: "int8[]",
        foreign: &["'{1,2}'"],
        counter: "'{1,2}'",
    },
    Column {
        ddl: "text[]",
        foreign: &["'{a,b}'"],
        counter: "'{a,b}'",
    },
    Column {
        ddl: "mood",
        foreign: &["'happy'"],
        counter: "'happy'",
    },
    Column {
        ddl: "email",
        foreign: &["'f@example.com'", "'back\\slash'"],
        counter: "'f@example.com'",
    },
    Column {
        ddl: "posint",
        foreign: &["9223372036854775807", "-9223372036854775808"],
        counter: "4000000000000000000",
    },
];

const TYPES: &str = "CREATE EXTENSION IF NOT EXISTS citext; \
    CREATE TYPE mood AS ENUM ('happy', 'grumpy'); \
    CREATE DOMAIN email AS text; \
    CREATE DOMAIN posint AS int8;";

/// What a cell's struct writes: two values for one key, in order, what one-by-one
/// application stores after both, and whether the strategy may keep the stored value.
struct Spec<V> {
    a: V,
    b: V,
    after: V,
    keeps_stored: bool,
}

trait Cell:
    AtomicUpsert
    + for<'r> atomic_upsert::__private::FromStored<'r>
    + Clone
    + Debug
    + PartialEq
    + Send
    + Sync
    + Unpin
    + 'static
{
    type V: Clone + Debug + PartialEq + Send + Sync;
    const TYPE: &'static str;
    const STRATEGY: &'static str;
    fn row(k: i32, v: Self::V) -> Self;
    fn value(&self) -> &Self::V;
    fn spec() -> Spec<Self::V>;
}

macro_rules! cell {
    ($name:ident, $t:ty, $strategy:literal, [$($attr:meta),*], $a:expr, $b:expr, $after:expr, $keeps:expr) => {
        #[derive(AtomicUpsert, Clone, Debug, PartialEq)]
        #[upsert(table = "cell")]
        struct $name {
            #[conflict_key]
            k: i32,
            /// Always written: every update writes the row, so a column the strategy
            /// keeps is read back.
            w: i32,
            $(#[$attr])*
            v: $t,
        }
        impl Cell for $name {
            type V = $t;
            const TYPE: &'static str = stringify!($t);
            const STRATEGY: &'static str = $strategy;
            fn row(k: i32, v: $t) -> Self {
                $name { k, w: k, v }
            }
            fn value(&self) -> &$t {
                &self.v
            }
            fn spec() -> Spec<$t> {
                Spec { a: $a, b: $b, after: $after, keeps_stored: $keeps }
            }
        }
    };
}

/// `write` and `insert_only` for a type, with `b` written over `a`.
macro_rules! plain {
    ($write:ident, $insert_only:ident, $t:ty, $a:expr, $b:expr) => {
        cell!($write, $t, "write", [], $a, $b, $b, false);
        cell!(
            $insert_only,
            $t,
            "insert_only",
            [upsert(insert_only)],
            $a,
            $b,
            $a,
            true
        );
    };
}

fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 123_456_000).unwrap()
}
fn naive(secs: i64) -> NaiveDateTime {
    ts(secs).naive_utc()
}
fn odt(secs: i64) -> atomic_upsert::sqlx::types::time::OffsetDateTime {
    atomic_upsert::sqlx::types::time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
}
fn pdt(secs: i64) -> atomic_upsert::sqlx::types::time::PrimitiveDateTime {
    let t = odt(secs);
    atomic_upsert::sqlx::types::time::PrimitiveDateTime::new(t.date(), t.time())
}
fn json(text: &str) -> JsonValue {
    text.parse::<JsonValue>().unwrap()
}
fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}
fn bigdec(text: &str) -> BigDecimal {
    text.parse().unwrap()
}
fn bits(byte: u8) -> BitVec {
    BitVec::from_bytes(&[byte])
}

// Scalars.
plain!(BoolW, BoolI, bool, false, true);
plain!(I16W, I16I, i16, 3, i16::MAX);
cell!(
    I16Add,
    i16,
    "add",
    [upsert(add)],
    3,
    i16::MAX - 3,
    i16::MAX,
    true
);
cell!(
    I16Max,
    i16,
    "greatest",
    [upsert(greatest)],
    3,
    i16::MAX,
    i16::MAX,
    true
);
plain!(I32W, I32I, i32, 3, i32::MAX);
cell!(
    I32Add,
    i32,
    "add",
    [upsert(add)],
    3,
    i32::MAX - 3,
    i32::MAX,
    true
);
cell!(
    I32Max,
    i32,
    "greatest",
    [upsert(greatest)],
    3,
    i32::MAX,
    i32::MAX,
    true
);
plain!(I64W, I64I, i64, 3, i64::MAX);
cell!(
    I64Add,
    i64,
    "add",
    [upsert(add)],
    3,
    i64::MAX - 3,
    i64::MAX,
    true
);
cell!(
    I64Max,
    i64,
    "greatest",
    [upsert(greatest)],
    3,
    i64::MAX,
    i64::MAX,
    true
);
// `-1` is the lesser text: a text column would keep it.
cell!(
    I64Least,
    i64,
    "least",
    [upsert(least)],
    -9_000_000_000_000_000_000,
    -1,
    -9_000_000_000_000_000_000,
    true
);
cell!(
    I64Version,
    i64,
    "version",
    [upsert(version)],
    3,
    i64::MAX,
    i64::MAX,
    true
);
plain!(F32W, F32I, f32, 1.000_000_1, f32::MAX);
cell!(
    F32Add,
    f32,
    "add",
    [upsert(add)],
    1.000_000_1,
    2.0,
    1.000_000_1 + 2.0,
    true
);
plain!(F64W, F64I, f64, 0.1 + 0.2, f64::MAX);
cell!(
    F64Add,
    f64,
    "add",
    [upsert(add)],
    0.1 + 0.2,
    2.25,
    0.1 + 0.2 + 2.25,
    true
);
cell!(
    F64Max,
    f64,
    "greatest",
    [upsert(greatest)],
    0.1 + 0.2,
    2.25,
    2.25,
    true
);
plain!(StringW, StringI, String, "a@ann".into(), "b@bob".into());
cell!(
    StringMax,
    String,
    "greatest",
    [upsert(greatest)],
    "a@ann".into(),
    "b@bob".into(),
    "b@bob".into(),
    true
);
plain!(BytesW, BytesI, Vec<u8>, vec![1; 20], vec![3]);
// Option.
cell!(
    OptI64W,
    Option<i64>,
    "write",
    [],
    Some(i64::MAX),
    None,
    None,
    false
);
cell!(
    OptI64I,
    Option<i64>,
    "insert_only",
    [upsert(insert_only)],
    Some(i64::MAX),
    None,
    Some(i64::MAX),
    true
);
cell!(
    OptI64C,
    Option<i64>,
    "coalesce",
    [upsert(coalesce)],
    Some(i64::MAX),
    None,
    Some(i64::MAX),
    true
);
cell!(
    OptI64Max,
    Option<i64>,
    "greatest",
    [upsert(greatest)],
    Some(i64::MAX),
    None,
    Some(i64::MAX),
    true
);
cell!(
    OptStrW,
    Option<String>,
    "write",
    [],
    Some("a@ann".into()),
    None,
    None,
    false
);
cell!(
    OptStrC,
    Option<String>,
    "coalesce",
    [upsert(coalesce)],
    Some("a@ann".into()),
    None,
    Some("a@ann".into()),
    true
);
// Arrays.
plain!(VecI64W, VecI64I, Vec<i64>, vec![1, 2], vec![3]);
plain!(
    VecStrW,
    VecStrI,
    Vec<String>,
    vec!["a@a".into()],
    vec!["b@b".into(), "c@c".into()]
);
cell!(
    OptVecW,
    Option<Vec<i64>>,
    "write",
    [],
    Some(vec![1]),
    None,
    None,
    false
);
cell!(
    OptVecC,
    Option<Vec<i64>>,
    "coalesce",
    [upsert(coalesce)],
    Some(vec![1]),
    None,
    Some(vec![1]),
    true
);
plain!(
    VecOptW,
    VecOptI,
    Vec<Option<i64>>,
    vec![Some(1), None],
    vec![None, Some(2)]
);
// JSON.
plain!(
    JsonW,
    JsonI,
    Json<JsonValue>,
    Json(json(r#"{"a": 1}"#)),
    Json(json(r#"{"b": 2}"#))
);
cell!(
    JsonMerge,
    Json<JsonValue>,
    "merge",
    [upsert(merge)],
    Json(json(r#"{"a": 1}"#)),
    Json(json(r#"{"b": 2}"#)),
    Json(json(r#"{"a": 1, "b": 2}"#)),
    true
);
plain!(
    ValueW,
    ValueI,
    JsonValue,
    json(r#"{"a": 1}"#),
    json(r#"{"b": 2}"#)
);
cell!(
    ValueMerge,
    JsonValue,
    "merge",
    [upsert(merge)],
    json(r#"{"a": 1}"#),
    json(r#"{"b": 2}"#),
    json(r#"{"a": 1, "b": 2}"#),
    true
);
cell!(
    OptJsonC,
    Option<Json<JsonValue>>,
    "coalesce",
    [upsert(coalesce)],
    Some(Json(json("[1]"))),
    None,
    Some(Json(json("[1]"))),
    true
);
// Feature types.
plain!(UuidW, UuidI, Uuid, Uuid::from_u128(1), Uuid::from_u128(2));
plain!(TsW, TsI, DateTime<Utc>, ts(1_000_000), ts(2_000_000));
cell!(
    TsMax,
    DateTime<Utc>,
    "greatest",
    [upsert(greatest)],
    ts(1_000_000),
    ts(2_000_000),
    ts(2_000_000),
    true
);
plain!(
    NaiveW,
    NaiveI,
    NaiveDateTime,
    naive(1_000_000),
    naive(2_000_000)
);
plain!(
    DateW,
    DateI,
    NaiveDate,
    NaiveDate::from_ymd_opt(2001, 2, 3).unwrap(),
    NaiveDate::from_ymd_opt(2002, 3, 4).unwrap()
);
plain!(
    TimeW,
    TimeI,
    NaiveTime,
    NaiveTime::from_hms_micro_opt(1, 2, 3, 4).unwrap(),
    NaiveTime::from_hms_opt(5, 6, 7).unwrap()
);
plain!(
    OdtW,
    OdtI,
    atomic_upsert::sqlx::types::time::OffsetDateTime,
    odt(1_000_000),
    odt(2_000_000)
);
plain!(
    PdtW,
    PdtI,
    atomic_upsert::sqlx::types::time::PrimitiveDateTime,
    pdt(1_000_000),
    pdt(2_000_000)
);
plain!(
    TDateW,
    TDateI,
    atomic_upsert::sqlx::types::time::Date,
    odt(1_000_000).date(),
    odt(90_000_000).date()
);
plain!(
    TTimeW,
    TTimeI,
    atomic_upsert::sqlx::types::time::Time,
    odt(1_000).time(),
    odt(2_000).time()
);
plain!(DecW, DecI, Decimal, dec("1.5"), dec("2.25"));
cell!(
    DecAdd,
    Decimal,
    "add",
    [upsert(add)],
    dec("1.5"),
    dec("2.25"),
    dec("3.75"),
    true
);
plain!(BigW, BigI, BigDecimal, bigdec("1.5"), bigdec("2.25"));
cell!(
    BigAdd,
    BigDecimal,
    "add",
    [upsert(add)],
    bigdec("1.5"),
    bigdec("2.25"),
    bigdec("3.75"),
    true
);
plain!(
    IpNetW,
    IpNetI,
    IpNet,
    "10.1.0.0/16".parse().unwrap(),
    "10.2.0.0/16".parse().unwrap()
);
plain!(
    IpNwW,
    IpNwI,
    IpNetwork,
    "10.1.0.0/16".parse().unwrap(),
    "10.2.0.0/16".parse().unwrap()
);
plain!(
    MacW,
    MacI,
    MacAddress,
    MacAddress::new([0, 1, 2, 3, 4, 5]),
    MacAddress::new([0, 1, 2, 3, 4, 6])
);
plain!(BitsW, BitsI, BitVec, bits(0b1010_0000), bits(0b0101_0000));
// sqlx derives.
plain!(MoodW, MoodI, Mood, Mood::Happy, Mood::Grumpy);
cell!(
    MoodMax,
    Mood,
    "greatest",
    [upsert(greatest)],
    Mood::Happy,
    Mood::Grumpy,
    Mood::Grumpy,
    true
);
plain!(CentsW, CentsI, Cents, Cents(3), Cents(5));
cell!(
    CentsAdd,
    Cents,
    "add",
    [upsert(add)],
    Cents(3),
    Cents(5),
    Cents(8),
    true
);
plain!(
    EmailW,
    EmailI,
    Email,
    Email("a@example.com".into()),
    Email("b@example.com".into())
);

/// What one cell did.
struct Verdicts {
    /// `verify`: the mismatch kinds it reported.
    verify: Result<(), Vec<(MismatchKind, String)>>,
    /// The build-time check on the same table.
    offline: Result<(), Vec<(MismatchKind, String)>>,
    /// The statements: the first failure or wrong value.
    ops: Result<(), String>,
}

type Run = for<'c> fn(
    &'c mut PgConnection,
    &'static Column,
    bool,
) -> Pin<Box<dyn Future<Output = Verdicts> + Send + 'c>>;

fn case<C: Cell>() -> (&'static str, &'static str, bool, Run) {
    (
        C::TYPE,
        C::STRATEGY,
        atomic_upsert::__private::is_known_type(C::TYPE),
        |conn, column, not_null| Box::pin(run::<C>(conn, column, not_null)),
    )
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        atomic_upsert::sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *conn),
    )
    .await
    .unwrap_or_else(|_| panic!("{sql}: no answer in 10 s"))
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn kinds(result: Result<(), Error>) -> Result<(), Vec<(MismatchKind, String)>> {
    match result {
        Ok(()) => Ok(()),
        Err(Error::SchemaMismatch(report)) => Err(report
            .mismatches()
            .map(|(_, m)| (m.kind, m.to_string()))
            .collect()),
        Err(other) => panic!("verify failed: {other}"),
    }
}

async fn run<C: Cell>(
    conn: &mut PgConnection,
    column: &'static Column,
    not_null: bool,
) -> Verdicts {
    exec(conn, "TRUNCATE cell").await;
    // Every cell's statements have the same text: the connection's prepared statements
    // (whose parameter types PostgreSQL fixed at the first cell) must not carry over.
    conn.clear_cached_statements().await.unwrap();
    let verify = kinds(C::verify(&mut *conn).await);
    let offline = atomic_upsert::__private::offline_check::<C>(conn)
        .await
        .unwrap();
    let offline = if offline.is_empty() {
        Ok(())
    } else {
        Err(offline.iter().map(|m| (m.kind, m.to_string())).collect())
    };
    let ops = ops::<C>(conn, column, not_null).await;
    Verdicts {
        verify,
        offline,
        ops,
    }
}

/// The stored value of key `k`, read as the struct reads it.
async fn read<C: Cell>(conn: &mut PgConnection, k: i32, probe: &C::V) -> Result<C::V, String> {
    let (row, how) = C::row(k, probe.clone())
        .insert_or_get(&mut *conn)
        .await
        .map_err(|e| format!("reading key {k} back: {e}"))?;
    if how != Obtained::Existing {
        return Err(format!("key {k} was not stored"));
    }
    Ok(row.value().clone())
}

fn same<V: Debug + PartialEq>(what: &str, got: &V, want: &V) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what}: stored {got:?}, one by one stores {want:?}"
        ))
    }
}

async fn ops<C: Cell>(
    conn: &mut PgConnection,
    column: &Column,
    not_null: bool,
) -> Result<(), String> {
    let s = C::spec();
    let fail = |what: &'static str| move |e: Error| format!("{what}: {e}");
    C::row(1, s.a.clone())
        .upsert(&mut *conn)
        .await
        .map_err(fail("upsert (insert)"))?;
    C::row(1, s.b.clone())
        .upsert(&mut *conn)
        .await
        .map_err(fail("upsert (update)"))?;
    same("upsert", &read::<C>(conn, 1, &s.a).await?, &s.after)?;

    let first = C::row(2, s.a.clone())
        .upsert_returning(&mut *conn)
        .await
        .map_err(fail("upsert_returning (insert)"))?;
    same(
        "upsert_returning (insert)",
        &first.map(|r| r.value().clone()),
        &Some(s.a.clone()),
    )?;
    let second = C::row(2, s.b.clone())
        .upsert_returning(&mut *conn)
        .await
        .map_err(fail("upsert_returning (update)"))?;
    match second {
        Some(row) => same("upsert_returning (update)", row.value(), &s.after)?,
        None => same(
            "upsert_returning (skipped)",
            &read::<C>(conn, 2, &s.a).await?,
            &s.after,
        )?,
    }

    for (path, k) in [(BulkPath::Unnest, 3), (BulkPath::Copy, 5)] {
        C::upsert_many_via(&mut *conn, &[C::row(k, s.a.clone())], path)
            .await
            .map_err(|e| format!("upsert_many {path:?} (insert): {e}"))?;
        C::upsert_many_via(&mut *conn, &[C::row(k, s.b.clone())], path)
            .await
            .map_err(|e| format!("upsert_many {path:?} (update): {e}"))?;
        same(
            &format!("upsert_many {path:?}"),
            &read::<C>(conn, k, &s.a).await?,
            &s.after,
        )?;
        C::upsert_many_via(
            &mut *conn,
            &[C::row(k + 1, s.a.clone()), C::row(k + 1, s.b.clone())],
            path,
        )
        .await
        .map_err(|e| format!("upsert_many {path:?} (one batch): {e}"))?;
        same(
            &format!("upsert_many {path:?} (one batch)"),
            &read::<C>(conn, k + 1, &s.a).await?,
            &s.after,
        )?;
    }

    // Over rows another writer stored: the column's extreme value, and NULL.
    // A counter over the extreme overflows on the column's own type: a value's failure
    // (22003, nothing written), as a CHECK's, which no schema check can see; it is
    // tried over a large value instead.
    let mut foreign = if C::STRATEGY == "add" {
        vec![column.counter]
    } else {
        column.foreign.to_vec()
    };
    if !not_null {
        foreign.push("NULL");
    }
    for (i, value) in foreign.into_iter().enumerate() {
        let base = 100 + 10 * i32::try_from(i).unwrap();
        let keys = [base, base + 1, base + 2, base + 3];
        let mut tx = conn.begin().await.unwrap();
        let rows: Vec<String> = keys.iter().map(|k| format!("({k}, 0, {value})")).collect();
        let stored = atomic_upsert::sqlx::raw_sql(AssertSqlSafe(format!(
            "INSERT INTO cell (k, w, v) VALUES {}",
            rows.join(", ")
        )))
        .execute(&mut *tx)
        .await;
        if stored.is_err() {
            // The column cannot hold it: no other writer can store it.
            tx.rollback().await.unwrap();
            continue;
        }
        tx.commit().await.unwrap();
        // Both values, each over its own stored row (`b` is the `None` of `coalesce`).
        // (A counter sends its small increment only.)
        let sends = if C::STRATEGY == "add" { 1 } else { 2 };
        for (k, sent) in [(base, &s.a), (base + 3, &s.b)].into_iter().take(sends) {
            let what = format!("upsert_returning {sent:?} over a stored {value}");
            let returned = C::row(k, sent.clone())
                .upsert_returning(&mut *conn)
                .await
                .map_err(|e| format!("{what}: {e}"))?;
            match returned {
                Some(row) if !s.keeps_stored => same(&what, row.value(), sent)?,
                Some(_) => {}
                // A write over a stored NULL must go through (a version compared with
                // NULL never does: the row would be stuck).
                None if value == "NULL" => {
                    return Err(format!("{what}: skipped, the row stays NULL"));
                }
                None => {}
            }
        }
        for (path, k) in [(BulkPath::Unnest, base + 1), (BulkPath::Copy, base + 2)] {
            C::upsert_many_via(&mut *conn, &[C::row(k, s.a.clone())], path)
                .await
                .map_err(|e| format!("upsert_many {path:?} over a stored {value}: {e}"))?;
        }
    }
    Ok(())
}

fn cases() -> Vec<(&'static str, &'static str, bool, Run)> {
    vec![
        case::<BoolW>(),
        case::<BoolI>(),
        case::<I16W>(),
        case::<I16I>(),
        case::<I16Add>(),
        case::<I16Max>(),
        case::<I32W>(),
        case::<I32I>(),
        case::<I32Add>(),
        case::<I32Max>(),
        case::<I64W>(),
        case::<I64I>(),
        case::<I64Add>(),
        case::<I64Max>(),
        case::<I64Least>(),
        case::<I64Version>(),
        case::<F32W>(),
        case::<F32I>(),
        case::<F32Add>(),
        case::<F64W>(),
        case::<F64I>(),
        case::<F64Add>(),
        case::<F64Max>(),
        case::<StringW>(),
        case::<StringI>(),
        case::<StringMax>(),
        case::<BytesW>(),
        case::<BytesI>(),
        case::<OptI64W>(),
        case::<OptI64I>(),
        case::<OptI64C>(),
        case::<OptI64Max>(),
        case::<OptStrW>(),
        case::<OptStrC>(),
        case::<VecI64W>(),
        case::<VecI64I>(),
        case::<VecStrW>(),
        case::<VecStrI>(),
        case::<OptVecW>(),
        case::<OptVecC>(),
        case::<VecOptW>(),
        case::<VecOptI>(),
        case::<JsonW>(),
        case::<JsonI>(),
        case::<JsonMerge>(),
        case::<ValueW>(),
        case::<ValueI>(),
        case::<ValueMerge>(),
        case::<OptJsonC>(),
        case::<UuidW>(),
        case::<UuidI>(),
        case::<TsW>(),
        case::<TsI>(),
        case::<TsMax>(),
        case::<NaiveW>(),
        case::<NaiveI>(),
        case::<DateW>(),
        case::<DateI>(),
        case::<TimeW>(),
        case::<TimeI>(),
        case::<OdtW>(),
        case::<OdtI>(),
        case::<PdtW>(),
        case::<PdtI>(),
        case::<TDateW>(),
        case::<TDateI>(),
        case::<TTimeW>(),
        case::<TTimeI>(),
        case::<DecW>(),
        case::<DecI>(),
        case::<DecAdd>(),
        case::<BigW>(),
        case::<BigI>(),
        case::<BigAdd>(),
        case::<IpNetW>(),
        case::<IpNetI>(),
        case::<IpNwW>(),
        case::<IpNwI>(),
        case::<MacW>(),
        case::<MacI>(),
        case::<BitsW>(),
        case::<BitsI>(),
        case::<MoodW>(),
        case::<MoodI>(),
        case::<MoodMax>(),
        case::<CentsW>(),
        case::<CentsI>(),
        case::<CentsAdd>(),
        case::<EmailW>(),
        case::<EmailI>(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_says_ok_exactly_when_the_statements_work() {
    let db = TestDb::new(1).await;
    let mut held = db.pool.acquire().await.unwrap();
    let conn: &mut PgConnection = &mut held;
    exec(conn, TYPES).await;
    let mut cells = 0;
    let mut ok = 0;
    let mut disagreements = Vec::new();
    let mut unseen = 0;
    let mut previous = String::new();
    for not_null in [false, true] {
        for column in COLUMNS {
            exec(conn, "DROP TABLE IF EXISTS cell").await;
            exec(
                conn,
                &format!(
                    "CREATE TABLE cell (k int4 PRIMARY KEY, w int4 NOT NULL, v {}{})",
                    column.ddl,
                    if not_null { " NOT NULL" } else { "" }
                ),
            )
            .await;
            for (ty, strategy, known, run) in cases() {
                let cell = format!(
                    "{ty} ({strategy}) on {}{}",
                    column.ddl,
                    if not_null { " NOT NULL" } else { "" }
                );
                // `MATRIX_ONLY=<part of a cell's name>` runs those cells alone, printed.
                let only = std::env::var("MATRIX_ONLY").ok();
                if only
                    .as_ref()
                    .is_some_and(|only| !cell.contains(only.as_str()))
                {
                    continue;
                }
                if std::env::var_os("MATRIX_TRACE").is_some() {
                    eprintln!("{cell}");
                }
                // A cell that leaves the connection out of step hangs the next one.
                let v = tokio::time::timeout(
                    std::time::Duration::from_secs(20),
                    run(conn, column, not_null),
                )
                .await
                .unwrap_or_else(|_| {
                    panic!("{cell}: no answer in 20 s; the previous cell: {previous}")
                });
                tokio::time::timeout(std::time::Duration::from_secs(5), exec(conn, "SELECT 1"))
                    .await
                    .unwrap_or_else(|_| panic!("{cell} left the connection out of step"));
                previous.clone_from(&cell);
                if only.is_some() {
                    println!(
                        "{cell}:\n  verify {:?}\n  build {:?}\n  statements {:?}",
                        v.verify, v.offline, v.ops
                    );
                }
                cells += 1;
                if v.ops.is_ok() {
                    ok += 1;
                }
                if v.verify.is_ok() != v.ops.is_ok() {
                    disagreements.push(format!(
                        "{cell}: verify {:?}, but the statements {:?}",
                        v.verify, v.ops
                    ));
                }
                if v.offline.is_ok() != v.verify.is_ok() {
                    if !known && v.offline.is_ok() {
                        unseen += 1;
                    } else {
                        disagreements.push(format!(
                            "{cell}: the build-time check {:?}, but verify {:?}",
                            v.offline, v.verify
                        ));
                    }
                }
            }
        }
    }
    println!(
        "{cells} cells: {ok} where the statements work; {unseen} where only verify (not the build) can see the field's type; {} disagreements",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {cells} cells disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    drop(held);
    db.finish().await;
}
