//! Array columns in batches: `upsert_many` of N rows with 5 `text` elements each, on both
//! paths, N doubling, so that the growth with N shows (linear, not quadratic: the `UNNEST`
//! path rebuilds the rows' arrays with one hash aggregate).
//!
//! `cargo bench -p atomic-upsert-bench --bench arrays`

use std::time::Instant;

use atomic_upsert::sqlx;
use atomic_upsert::{AtomicUpsert, BulkPath};
use upsert_testkit::TestDb;

#[derive(AtomicUpsert)]
#[upsert(table = "posts")]
struct Post {
    #[conflict_key]
    id: i64,
    tags: Vec<String>,
}

#[tokio::main]
async fn main() {
    let db = TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE posts (id int8 PRIMARY KEY, tags text[] NOT NULL)")
        .execute(&db.pool)
        .await
        .expect("the table");
    println!("| rows | path | insert s | update s |");
    println!("|---|---|---|---|");
    for n in [10_000_i64, 20_000, 40_000] {
        let rows: Vec<Post> = (0..n)
            .map(|id| Post {
                id,
                tags: (0..5).map(|t| format!("tag-{id}-{t}")).collect(),
            })
            .collect();
        for path in [BulkPath::Unnest, BulkPath::Copy] {
            sqlx::query("TRUNCATE posts")
                .execute(&db.pool)
                .await
                .expect("truncate");
            let mut seconds = [0.0; 2];
            for second in &mut seconds {
                let started = Instant::now();
                Post::upsert_many_via(&db.pool, &rows, path)
                    .await
                    .expect("the batch");
                *second = started.elapsed().as_secs_f64();
            }
            println!("| {n} | {path:?} | {:.3} | {:.3} |", seconds[0], seconds[1]);
        }
    }
    db.finish().await;
}
