//! The README's recipe for sqlx's own derives: with `sqlx = { version = "0.9",
//! default-features = false, features = ["derive", "postgres"] }` beside atomic-upsert, an
//! enum and a newtype with `#[derive(sqlx::Type)]` are fields like any other, in arrays
//! too, and a newtype counter opts into `#[upsert(add)]` with `Addable`.

use atomic_upsert::{Addable, AtomicUpsert, BulkPath, UpsertOutcome};
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

#[derive(AtomicUpsert, Debug, Clone, PartialEq)]
#[upsert(table = "people")]
struct Person {
    #[conflict_key]
    name: String,
    mood: Mood,
    history: Vec<Mood>,
    #[upsert(add)]
    cents: Cents,
}

const PEOPLE: &str = "CREATE TYPE mood AS ENUM ('happy', 'grumpy'); \
    CREATE TABLE people (name text PRIMARY KEY, mood mood NOT NULL, history mood[] NOT NULL, \
    cents int8 NOT NULL)";

fn person(name: &str, mood: Mood, cents: i64) -> Person {
    Person {
        name: name.into(),
        mood,
        history: vec![mood, Mood::Happy],
        cents: Cents(cents),
    }
}

#[tokio::test]
async fn sqlx_enums_and_newtypes_upsert_on_every_path() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(PEOPLE).execute(&db.pool).await.unwrap();
    Person::verify(&db.pool).await.unwrap();

    assert_eq!(
        person("ann", Mood::Happy, 5)
            .upsert(&db.pool)
            .await
            .unwrap(),
        UpsertOutcome::Inserted
    );
    let stored = person("ann", Mood::Grumpy, 7)
        .upsert_returning(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.mood, Mood::Grumpy);
    assert_eq!(stored.history, vec![Mood::Grumpy, Mood::Happy]);
    assert_eq!(stored.cents, Cents(12));

    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let rows = [
            person("ann", Mood::Happy, 1),
            person("bob", Mood::Grumpy, 2),
            person("ann", Mood::Happy, 3),
        ];
        let outcome = Person::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap();
        assert_eq!(outcome.inserted + outcome.updated, 3, "{path:?}");
    }
    let cents: Vec<i64> = sqlx::query_scalar("SELECT cents FROM people ORDER BY name")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(cents, vec![12 + 4 + 4, 2 + 2]);
    db.finish().await;
}
