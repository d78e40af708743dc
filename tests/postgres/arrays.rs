//! Array columns (`Vec<T>`, `Option<Vec<T>>`, NULL elements) on every path: `upsert`,
//! `upsert_returning`, `insert_or_get`, and `upsert_many` on `UNNEST` (sliced from one flat
//! array) and on `COPY`, each checked against one-by-one application on random batches.

use atomic_upsert::sqlx;
use atomic_upsert::{AtomicUpsert, BulkPath, UpsertOutcome};
use upsert_testkit::TestDb;

use crate::support::{Rng, bulk_matches_one_by_one};

#[derive(AtomicUpsert, Clone, Debug, PartialEq)]
#[upsert(table = "posts")]
struct Post {
    #[conflict_key]
    id: i64,
    tags: Vec<String>,
    scores: Option<Vec<i64>>,
    flags: Vec<Option<bool>>,
    #[upsert(insert_only)]
    first_tags: Option<Vec<String>>,
    ratios: Vec<f64>,
    /// `bytea`, not an array: stays a scalar column.
    blob: Vec<u8>,
}

const POSTS: &str = "CREATE TABLE posts (id int8 PRIMARY KEY, tags text[] NOT NULL, \
    scores int8[], flags bool[] NOT NULL, first_tags text[], ratios float8[] NOT NULL, \
    blob bytea NOT NULL)";

fn post(id: i64, tags: &[&str], scores: Option<Vec<i64>>) -> Post {
    Post {
        id,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        scores,
        flags: vec![Some(true), None, Some(false)],
        first_tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
        ratios: vec![0.5, -1.25],
        blob: vec![0, 1, 2],
    }
}

/// Every shape an array takes: empty, NULL, NULL elements, quotes, commas, braces and
/// non-ASCII text that a text-literal encoding would get wrong.
fn random_post(rng: &mut Rng, keys: u64) -> Post {
    const WORDS: [&str; 8] = [
        "a",
        "",
        "with space",
        "\"quoted\"",
        "x,y",
        "{brace}",
        "ü",
        "NULL",
    ];
    let len = |rng: &mut Rng| usize::try_from(rng.below(4)).unwrap();
    let tags = (0..len(rng))
        .map(|_| WORDS[usize::try_from(rng.below(8)).unwrap()].to_owned())
        .collect();
    let scores = (rng.below(4) != 0).then(|| {
        (0..len(rng))
            .map(|_| i64::from(rng.int(1000)) - 500)
            .collect()
    });
    let flags = (0..len(rng))
        .map(|_| match rng.below(3) {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        })
        .collect();
    let first_tags =
        (rng.below(3) != 0).then(|| vec![WORDS[usize::try_from(rng.below(8)).unwrap()].to_owned()]);
    Post {
        id: i64::try_from(rng.below(keys)).unwrap(),
        tags,
        scores,
        flags,
        first_tags,
        ratios: (0..len(rng))
            .map(|i| f64::from(rng.int(100)) / 8.0 + f64::from(u8::try_from(i).unwrap()))
            .collect(),
        blob: vec![u8::try_from(rng.below(256)).unwrap(); len(rng)],
    }
}

#[tokio::test]
async fn array_columns_round_trip_on_single_row_calls() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(POSTS).execute(&db.pool).await.unwrap();
    // The schema check binds an array column's three batch parameters too.
    Post::verify(&db.pool).await.unwrap();
    let first = post(1, &["rust", "sql"], Some(vec![3, 1]));
    assert_eq!(
        first.upsert(&db.pool).await.unwrap(),
        UpsertOutcome::Inserted
    );
    let mut second = post(1, &[], None);
    second.flags = vec![];
    let stored = second.upsert_returning(&db.pool).await.unwrap().unwrap();
    assert_eq!(stored.tags, Vec::<String>::new());
    assert_eq!(stored.scores, None);
    assert_eq!(stored.flags, vec![]);
    // insert_only kept the first row's array.
    assert_eq!(
        stored.first_tags,
        Some(vec!["rust".to_owned(), "sql".to_owned()])
    );
    let (existing, _) = post(1, &["other"], None)
        .insert_or_get(&db.pool)
        .await
        .unwrap();
    assert_eq!(existing, stored);
    let (tags, dims): (Vec<String>, Option<String>) =
        sqlx::query_as("SELECT tags, array_dims(scores) FROM posts WHERE id = 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((tags, dims), (vec![], None));
    // A column of the wrong element type is found before any write.
    sqlx::query("ALTER TABLE posts ALTER COLUMN scores TYPE int4[]")
        .execute(&db.pool)
        .await
        .unwrap();
    let report = Post::verify(&db.pool).await.unwrap_err().to_string();
    assert!(report.contains("scores"), "{report}");
    db.finish().await;
}

#[tokio::test]
async fn array_columns_in_batches_match_one_by_one_on_both_paths() {
    let db = TestDb::new(2).await;
    let mut rng = Rng(0x5eed_a77a_0001);
    for round in 0..6 {
        let seed: Vec<Post> = (0..4).map(|_| random_post(&mut rng, 12)).collect();
        let batch: Vec<Post> = (0..40).map(|_| random_post(&mut rng, 12)).collect();
        let create = format!("DROP TABLE IF EXISTS posts; {POSTS}");
        let outcome = bulk_matches_one_by_one(&db, &create, "id", &seed, &batch).await;
        assert_eq!(
            outcome.inserted + outcome.updated,
            40,
            "round {round}: every row counted"
        );
    }
    db.finish().await;
}

/// `tags`, `scores` and `array_dims(tags)` of a stored row.
type Sliced = (Vec<String>, Option<Vec<i64>>, Option<String>);

#[tokio::test]
async fn each_row_keeps_its_own_elements_next_to_empty_and_null_arrays() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(POSTS).execute(&db.pool).await.unwrap();
    // Empty, NULL and non-empty arrays next to each other, so a slice that is off by one
    // would move elements between rows.
    let rows = vec![
        post(1, &[], None),
        post(2, &["b1", "b2"], Some(vec![])),
        post(3, &[], Some(vec![7])),
        post(4, &["d1"], None),
    ];
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        sqlx::query("TRUNCATE posts")
            .execute(&db.pool)
            .await
            .unwrap();
        let outcome = Post::upsert_many_via(&db.pool, &rows, path).await.unwrap();
        assert_eq!(outcome.inserted, 4, "{path:?}");
        let stored: Vec<Sliced> =
            sqlx::query_as("SELECT tags, scores, array_dims(tags) FROM posts ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            stored,
            vec![
                (vec![], None, None),
                (
                    vec!["b1".into(), "b2".into()],
                    Some(vec![]),
                    Some("[1:2]".into())
                ),
                (vec![], Some(vec![7]), None),
                (vec!["d1".into()], None, Some("[1:1]".into())),
            ],
            "{path:?}"
        );
    }
    db.finish().await;
}

#[derive(AtomicUpsert)]
#[upsert(table = "contacts")]
struct Contact {
    #[conflict_key]
    id: i64,
    emails: Vec<String>,
}

/// An array of a domain over `text` takes a `Vec<String>`: `verify` looks through the
/// domain, as PostgreSQL does when it coerces `text[]` on the write.
#[tokio::test]
async fn arrays_of_a_domain_verify_and_upsert() {
    let db = TestDb::new(1).await;
    sqlx::raw_sql(
        "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%'); \
         CREATE TABLE contacts (id int8 PRIMARY KEY, emails email[] NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    Contact::verify(&db.pool).await.unwrap();
    let rows = [Contact {
        id: 1,
        emails: vec!["a@example.com".into()],
    }];
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        Contact::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
    // The domain's CHECK applies to every element.
    let bad = Contact {
        id: 2,
        emails: vec!["nope".into()],
    };
    assert_eq!(
        bad.upsert(&db.pool).await.unwrap_err().sqlstate(),
        Some("23514")
    );
    db.finish().await;
}
