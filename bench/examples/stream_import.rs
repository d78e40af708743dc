//! Streams 500,000 rows into a throwaway PostgreSQL with `upsert_stream`, an indicatif bar
//! fed by its progress callback. Memory holds one 64 KiB `COPY` chunk however long the
//! stream is.
//!
//! `cargo run --release -p atomic-upsert-bench --example stream_import`

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{self, types::Json};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
}

const ROWS: u64 = 500_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = upsert_testkit::TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await?;
    // Any `Stream<Item = StravaStats>`: lines of a file, messages from a queue, ..
    let rows = futures_util::stream::iter((0..ROWS).map(|i| StravaStats {
        stats_type: format!("athlete-{:06}", i % 400_000),
        data: Json(serde_json::json!({ "distance_km": i % 10_000, "rides": i % 500 })),
    }));
    let bar = ProgressBar::new(ROWS).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} rows sent ({per_sec})",
    )?);
    let outcome = StravaStats::upsert_stream(&db.pool, rows, |sent| bar.set_position(sent)).await?;
    bar.finish();
    println!(
        "{} inserted, {} updated (keys repeat after 400,000 rows)",
        outcome.inserted, outcome.updated
    );
    db.finish().await;
    Ok(())
}
