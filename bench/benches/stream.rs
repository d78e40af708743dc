//! `upsert_stream` of 1,000,000 rows against `upsert_many` on a `Vec` of the same rows: time
//! and peak memory. Each run is a child process of its own (this binary, with `--child`),
//! so that its peak resident memory (`VmHWM`) is its own; the figure is that peak minus
//! the child's resident memory once connected, before any row exists.
//!
//! `cargo bench -p atomic-upsert-bench --bench stream [-- --rows 1000000 --rounds 3]`
//!
//! A third run streams on a held connection (`&mut *conn`), where the rows are staged by
//! `INSERT .. UNNEST` statements of 8,192 rows instead of `COPY` (a dropped call cannot
//! leave a lent connection out of step).
//!
//! Rows: the seed's `StravaStats` shape, a `text` key and a `jsonb` payload of about 110
//! bytes; 1,000,000 keys, all new.

use std::process::Command;
use std::time::Instant;

use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::{self, types::Json};
use clap::Parser;

#[derive(AtomicUpsert)]
#[upsert(table = "strava_stats")]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    data: Json<serde_json::Value>,
}

#[derive(Parser)]
struct Args {
    /// Rows per run.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Interleaved rounds (each a Vec run, a stream run and a held-connection stream run).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Run one measurement in this process: `vec`, `stream` or `held`.
    #[arg(long)]
    child: Option<String>,
    /// Ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

fn row(i: u64) -> StravaStats {
    StravaStats {
        stats_type: format!("athlete-{i:010}"),
        data: Json(serde_json::json!({
            "distance_km": i % 10_000,
            "moving_time_s": i * 7 % 100_000,
            "elevation_m": i % 3_000,
            "rides": i % 500,
            "kind": "ytd",
        })),
    }
}

/// This process's resident memory now (`VmRSS`) and at its peak (`VmHWM`), in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn child(mode: &str, rows: u64) {
    let db = upsert_testkit::TestDb::new(2).await;
    sqlx::raw_sql("CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let (baseline, _) = memory_kib();
    let started = Instant::now();
    let outcome = if mode == "stream" {
        let stream = futures_util::stream::iter((0..rows).map(row));
        StravaStats::upsert_stream(&db.pool, stream, |_| {})
            .await
            .unwrap()
    } else if mode == "held" {
        let mut conn = db.pool.acquire().await.unwrap();
        let stream = futures_util::stream::iter((0..rows).map(row));
        StravaStats::upsert_stream(&mut *conn, stream, |_| {})
            .await
            .unwrap()
    } else {
        let batch: Vec<StravaStats> = (0..rows).map(row).collect();
        StravaStats::upsert_many(&db.pool, &batch).await.unwrap()
    };
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory_kib();
    assert_eq!(outcome.inserted, rows);
    println!("{seconds} {}", peak.saturating_sub(baseline));
    db.finish().await;
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[allow(clippy::cast_precision_loss)]
fn main() {
    let args = Args::parse();
    if let Some(mode) = &args.child {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(child(mode, args.rows));
        return;
    }
    let server = upsert_testkit::Dedicated::start();
    let exe = std::env::current_exe().unwrap();
    let modes = ["vec", "stream", "held"];
    let mut results: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); modes.len()];
    for round in 0..args.rounds {
        for (i, mode) in modes.iter().enumerate() {
            let out = Command::new(&exe)
                .args(["--child", mode, "--rows", &args.rows.to_string()])
                .env("DATABASE_URL", &server.url)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let mut fields = text.split_whitespace();
            let seconds: f64 = fields.next().unwrap().parse().unwrap();
            let kib: f64 = fields.next().unwrap().parse().unwrap();
            eprintln!(
                "round {round} {mode}: {seconds:.2} s, peak +{:.1} MiB",
                kib / 1024.0
            );
            results[i].0.push(seconds);
            results[i].1.push(kib / 1024.0);
        }
    }
    println!(
        "\n#### {} rows (text key, ~110-byte jsonb), median of {} interleaved rounds\n",
        args.rows, args.rounds
    );
    println!("| strategy | seconds | rows/s | peak memory above the connected baseline |");
    println!("|---|---:|---:|---:|");
    let names = [
        "`upsert_many(&pool, &vec)` (the Vec built first)",
        "`upsert_stream(&pool, stream)`",
        "`upsert_stream(&mut *conn, stream)` (staged by `INSERT`)",
    ];
    for (i, name) in names.iter().enumerate() {
        let seconds = median(results[i].0.clone());
        println!(
            "| {name} | {seconds:.2} | {:.0} | {:.1} MiB |",
            args.rows as f64 / seconds,
            median(results[i].1.clone())
        );
    }
    println!(
        "\nstream / Vec time: {:.3}x",
        median(results[1].0.clone()) / median(results[0].0.clone())
    );
    println!(
        "held connection / pool stream time: {:.3}x",
        median(results[2].0.clone()) / median(results[1].0.clone())
    );
}
