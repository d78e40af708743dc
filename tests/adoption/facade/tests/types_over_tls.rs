//! A crate whose only dependency is atomic-upsert (features `uuid`, `chrono`, `time`,
//! `rust_decimal`, `tls-rustls`) upserts `Uuid`, `DateTime<Utc>`, `OffsetDateTime`,
//! `Decimal` (an exact `add` counter) and `Vec<String>` columns, over TLS, to a throwaway
//! server that refuses every connection without it.

use atomic_upsert::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use atomic_upsert::sqlx::types::chrono::{DateTime, Utc};
use atomic_upsert::sqlx::types::time::OffsetDateTime;
use atomic_upsert::sqlx::types::{Decimal, Uuid};
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, BulkPath, UpsertOutcome};
use upsert_testkit::Dedicated;

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "accounts")]
struct Account {
    #[conflict_key]
    id: Uuid,
    #[upsert(insert_only)]
    opened: DateTime<Utc>,
    last_seen: OffsetDateTime,
    #[upsert(add)]
    balance: Decimal,
    tags: Vec<String>,
}

const ACCOUNTS: &str = "CREATE TABLE accounts (id uuid PRIMARY KEY, opened timestamptz NOT NULL, \
    last_seen timestamptz NOT NULL, balance numeric(12, 2) NOT NULL, tags text[] NOT NULL)";

fn account(id: u128, at: i64, cents: i64, tags: &[&str]) -> Account {
    Account {
        id: Uuid::from_u128(id),
        opened: DateTime::from_timestamp(at, 0).unwrap(),
        last_seen: OffsetDateTime::from_unix_timestamp(at).unwrap(),
        balance: Decimal::new(cents, 2),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

async fn tls_pool(server: &Dedicated) -> PgPool {
    let options: PgConnectOptions = server.url.parse().unwrap();
    let options = options
        .ssl_mode(PgSslMode::VerifyCa)
        .ssl_root_cert(server.ca_cert.clone().unwrap());
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("a TLS connection, the certificate checked against the test CA")
}

#[tokio::test]
async fn feature_types_and_arrays_upsert_over_tls_only() {
    let server = Dedicated::start_tls_only();

    // The server refuses plaintext: the pool below really is TLS.
    let plain: PgConnectOptions = server.url.parse().unwrap();
    let refused = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(plain.ssl_mode(PgSslMode::Disable))
        .await
        .expect_err("plaintext is rejected");
    assert!(refused.to_string().contains("no encryption"), "{refused}");

    let pool = tls_pool(&server).await;
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(ssl);
    sqlx::raw_sql(ACCOUNTS).execute(&pool).await.unwrap();
    Account::verify(&pool).await.unwrap();

    // Single rows: insert, then an update that adds exactly and keeps `opened`.
    let first = account(1, 1_700_000_000, 1050, &["new"]);
    assert_eq!(first.upsert(&pool).await.unwrap(), UpsertOutcome::Inserted);
    let later = account(1, 1_800_000_000, 1, &["new", "gold"]);
    let stored = later.upsert_returning(&pool).await.unwrap().unwrap();
    assert_eq!(stored.balance, Decimal::new(1051, 2));
    assert_eq!(
        stored.opened, first.opened,
        "insert_only kept the first value"
    );
    assert_eq!(stored.last_seen, later.last_seen);
    assert_eq!(stored.tags, vec!["new".to_owned(), "gold".to_owned()]);

    // Batches on both paths, with duplicates of a key: sums exact to the cent.
    for (round, path) in [BulkPath::Unnest, BulkPath::Copy].into_iter().enumerate() {
        let base = 100 + u128::try_from(round).unwrap() * 10;
        let rows = vec![
            account(base, 1_700_000_000, 10, &[]),
            account(base + 1, 1_700_000_000, 99_999, &["a", "b"]),
            account(base, 1_700_000_500, 5, &["second"]),
            account(1, 1_900_000_000, 25, &[]),
        ];
        let outcome = Account::upsert_many_via(&pool, &rows, path).await.unwrap();
        assert_eq!((outcome.inserted, outcome.updated), (2, 2), "{path:?}");
        let (balance, tags): (Decimal, Vec<String>) =
            sqlx::query_as("SELECT balance, tags FROM accounts WHERE id = $1")
                .bind(Uuid::from_u128(base))
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(balance, Decimal::new(15, 2), "{path:?}");
        assert_eq!(tags, vec!["second".to_owned()], "{path:?}");
    }
    let total: Decimal = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = $1")
        .bind(Uuid::from_u128(1))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(total, Decimal::new(1101, 2), "10.51 + 0.25 + 0.25");
    pool.close().await;
}
