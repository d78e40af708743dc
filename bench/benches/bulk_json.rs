//! Bulk upserts on realistic rows: the seed's `StravaStats` shape (a `text` key and a
//! `jsonb` payload of about 110 bytes), on a server that makes commits durable. `upsert_many`
//! against hand-built multi-row `VALUES` in 1,000-row chunks and hand-written `COPY` +
//! `INSERT .. SELECT`, all in one transaction each. A cell inserts N new keys (after a
//! `TRUNCATE`), then updates the same N keys, timed separately; medians of interleaved
//! rounds.
//!
//! `cargo bench -p atomic-upsert-bench --bench bulk_json [-- --rows 10000,100000 --rounds 5]`
//! (`--orders sorted,shuffled`, `--ways auto,values,..` to run fewer strategies). Each
//! table gives the ratio of medians and the median of each round's own ratio to `VALUES`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::postgres::{PgPool, PgPoolOptions};
use atomic_upsert::sqlx::{self, ConnectOptions as _, types::Json};
use atomic_upsert::{AtomicUpsert, BulkPath};
use clap::Parser;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
}

const TABLE: &str = "DROP TABLE IF EXISTS strava_stats; \
    CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)";

#[derive(Parser)]
struct Args {
    /// Batch sizes (comma-separated).
    #[arg(long, default_value = "10000,100000", value_delimiter = ',')]
    rows: Vec<usize>,
    /// Interleaved rounds; the figures are medians.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Key orders of the batch: `sorted` (keys ascending) and `shuffled` (a fixed
    /// permutation; every strategy gets the same rows in the same order).
    #[arg(long, default_value = "sorted,shuffled", value_delimiter = ',')]
    orders: Vec<String>,
    /// Strategies to run (`auto`, `unnest`, `copy`, `values`, `hand-copy`, `hand-unnest`);
    /// `values` and `hand-copy`, the baselines, always run.
    #[arg(
        long,
        default_value = "auto,unnest,copy,values,hand-copy,hand-unnest",
        value_delimiter = ','
    )]
    ways: Vec<String>,
    /// Ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    Ours,
    OursUnnest,
    OursCopy,
    Values,
    Copy,
    HandUnnest,
}

impl Way {
    const ALL: [Way; 6] = [
        Way::Ours,
        Way::OursUnnest,
        Way::OursCopy,
        Way::Values,
        Way::Copy,
        Way::HandUnnest,
    ];

    fn key(self) -> &'static str {
        match self {
            Way::Ours => "auto",
            Way::OursUnnest => "unnest",
            Way::OursCopy => "copy",
            Way::Values => "values",
            Way::Copy => "hand-copy",
            Way::HandUnnest => "hand-unnest",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Way::Ours => "`upsert_many` (Auto)",
            Way::OursUnnest => "`upsert_many` (UNNEST path)",
            Way::OursCopy => "`upsert_many` (COPY path)",
            Way::Values => "hand-built multi-row VALUES, 1,000-row chunks",
            Way::Copy => "hand-written COPY + INSERT .. SELECT",
            Way::HandUnnest => "hand-written UNNEST, no dedup, order or counts",
        }
    }
}

fn rows(n: usize, version: u64) -> Vec<StravaStats> {
    (0..n as u64)
        .map(|i| StravaStats {
            stats_type: format!("athlete-{i:08}-ytd"),
            data: Json(serde_json::json!({
                "distance_km": (i * 7 + version) % 10_000,
                "moving_time_s": (i * 13 + version) % 100_000,
                "elevation_m": i % 3_000,
                "rides": version,
                "updated": "2026-11-30",
            })),
        })
        .collect()
}

async fn write(pool: &PgPool, way: Way, batch: &[StravaStats]) {
    match way {
        Way::Ours => drop(StravaStats::upsert_many(pool, batch).await.unwrap()),
        Way::OursUnnest => drop(
            StravaStats::upsert_many_via(pool, batch, BulkPath::Unnest)
                .await
                .unwrap(),
        ),
        Way::OursCopy => drop(
            StravaStats::upsert_many_via(pool, batch, BulkPath::Copy)
                .await
                .unwrap(),
        ),
        Way::Values => {
            let mut tx = pool.begin().await.unwrap();
            for chunk in batch.chunks(1000) {
                let mut sql = String::from("INSERT INTO strava_stats (stats_type, data) VALUES ");
                for i in 0..chunk.len() {
                    let _ = write!(
                        sql,
                        "{}(${}, ${})",
                        if i > 0 { "," } else { "" },
                        2 * i + 1,
                        2 * i + 2
                    );
                }
                sql.push_str(" ON CONFLICT (stats_type) DO UPDATE SET data = EXCLUDED.data");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    query = query.bind(&row.stats_type).bind(&row.data);
                }
                query.execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        Way::HandUnnest => {
            let keys: Vec<&String> = batch.iter().map(|r| &r.stats_type).collect();
            let data: Vec<&Json<serde_json::Value>> = batch.iter().map(|r| &r.data).collect();
            sqlx::query("INSERT INTO strava_stats (stats_type, data) SELECT * FROM UNNEST($1::text[], $2::jsonb[]) ON CONFLICT (stats_type) DO UPDATE SET data = EXCLUDED.data")
                .bind(keys).bind(data).execute(pool).await.unwrap();
        }
        Way::Copy => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::raw_sql("CREATE TEMP TABLE stage (stats_type text, data jsonb) ON COMMIT DROP")
                .execute(&mut *tx)
                .await
                .unwrap();
            let mut copy = tx
                .copy_in_raw("COPY stage (stats_type, data) FROM STDIN")
                .await
                .unwrap();
            let mut text = String::with_capacity(1 << 20);
            for row in batch {
                // Neither the keys nor this JSON hold a tab, newline or backslash.
                let _ = writeln!(text, "{}\t{}", row.stats_type, row.data.0);
                if text.len() >= 1 << 20 {
                    copy.send(std::mem::take(&mut text).into_bytes())
                        .await
                        .unwrap();
                }
            }
            copy.send(text.into_bytes()).await.unwrap();
            copy.finish().await.unwrap();
            sqlx::raw_sql(
                "INSERT INTO strava_stats (stats_type, data) SELECT stats_type, data FROM stage \
                 ON CONFLICT (stats_type) DO UPDATE SET data = EXCLUDED.data",
            )
            .execute(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
    }
}

/// `rows` in a fixed pseudo-random order (a Fisher-Yates shuffle driven by an LCG).
fn shuffled(mut rows: Vec<StravaStats>) -> Vec<StravaStats> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..rows.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from(state >> 33).unwrap_or(0) % (i + 1);
        rows.swap(i, j);
    }
    rows
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let server = upsert_testkit::Dedicated::start_durable();
    let options = server
        .url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    println!(
        "PostgreSQL, fsync=on, synchronous_commit=on; text key + ~110-byte jsonb; median of {} interleaved rounds",
        args.rounds
    );
    for (&n, order) in args
        .rows
        .iter()
        .flat_map(|n| args.orders.iter().map(move |order| (n, order)))
    {
        let (mut fresh, mut update) = (rows(n, 1), rows(n, 2));
        if order == "shuffled" {
            (fresh, update) = (shuffled(fresh), shuffled(update));
        }
        let ways: Vec<Way> = Way::ALL
            .into_iter()
            .filter(|w| {
                matches!(w, Way::Values | Way::Copy) || args.ways.iter().any(|k| k == w.key())
            })
            .collect();
        let mut times: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); ways.len()];
        for round in 0..args.rounds {
            // Each round starts with the next strategy: no strategy always runs first after
            // the pause (which measured a few percent slower in every position).
            for k in 0..ways.len() {
                let i = (round + k) % ways.len();
                let way = &ways[i];
                sqlx::raw_sql(TABLE).execute(&pool).await.unwrap();
                let started = Instant::now();
                write(&pool, *way, &fresh).await;
                times[i].0.push(started.elapsed().as_secs_f64());
                let started = Instant::now();
                write(&pool, *way, &update).await;
                times[i].1.push(started.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let at = |way| ways.iter().position(|w| *w == way).unwrap_or_default();
        let (values_at, copy_at) = (at(Way::Values), at(Way::Copy));
        let values = (
            median(times[values_at].0.clone()),
            median(times[values_at].1.clone()),
        );
        let copy = (
            median(times[copy_at].0.clone()),
            median(times[copy_at].1.clone()),
        );
        // The median of each round's own ratio: a slow round slows both sides of it.
        let paired = |i: usize, update: bool| {
            let side = |t: &(Vec<f64>, Vec<f64>)| if update { t.1.clone() } else { t.0.clone() };
            median(
                side(&times[i])
                    .iter()
                    .zip(side(&times[values_at]))
                    .map(|(t, v)| t / v)
                    .collect(),
            )
        };
        println!("\n#### {n} rows, keys {order}\n");
        println!(
            "| strategy | insert s | update s | vs VALUES (insert / update) | per-round vs VALUES | vs COPY (insert / update) |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for (i, way) in ways.iter().enumerate() {
            let (insert, update) = (median(times[i].0.clone()), median(times[i].1.clone()));
            println!(
                "| {} | {insert:.3} | {update:.3} | {:.2}x / {:.2}x | {:.2}x / {:.2}x | {:.2}x / {:.2}x |",
                way.name(),
                insert / values.0,
                update / values.1,
                paired(i, false),
                paired(i, true),
                insert / copy.0,
                update / copy.1
            );
        }
    }
    pool.close().await;
}
