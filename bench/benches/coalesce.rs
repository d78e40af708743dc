//! The coalescing writer against one statement per call, on a server that makes every
//! commit durable (`fsync=on`, `synchronous_commit=on`): per-call `upsert(&pool)`, per-call
//! on held connections, the hand-written single statement on held connections, pgbench's
//! C client sending that statement, and `Writer::upsert`, at 16 and 64 concurrent callers.
//!
//! `cargo bench -p atomic-upsert-bench --bench coalesce [-- --duration 3 --rounds 3]`
//!
//! Each cell runs `duration` seconds; rounds interleave the strategies; the figures are
//! medians over rounds. Results and the method are in PERFORMANCE.md.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::postgres::{PgPool, PgPoolOptions};
use atomic_upsert::sqlx::{self, ConnectOptions as _};
use atomic_upsert::{AtomicUpsert, WriterConfig};
use clap::Parser;
use hdrhistogram::Histogram;

#[derive(AtomicUpsert, Clone)]
#[upsert(table = "hits")]
struct Hit {
    #[conflict_key]
    page: String,
    last: i64,
    #[upsert(add)]
    n: i64,
}

const KEYS: u64 = 10_000;
const TABLE: &str = "DROP TABLE IF EXISTS hits; \
    CREATE TABLE hits (page text PRIMARY KEY, last int8 NOT NULL, n int8 NOT NULL); \
    INSERT INTO hits SELECT 'p' || k, 0, 0 FROM generate_series(0, 9999) AS k";
const HAND: &str = "INSERT INTO hits (page, last, n) VALUES ($1, $2, $3) \
    ON CONFLICT (page) DO UPDATE SET last = EXCLUDED.last, n = hits.n + EXCLUDED.n";

#[derive(Parser)]
struct Args {
    /// Seconds per cell.
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    /// Interleaved rounds per cell; the figures are medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Concurrent callers (comma-separated).
    #[arg(long, default_value = "16,64", value_delimiter = ',')]
    callers: Vec<usize>,
    /// The writer's `max_delay`, in microseconds.
    #[arg(long, default_value_t = 0)]
    max_delay_us: u64,
    /// Ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    Pool,
    Held,
    RawHeld,
    Coalesced,
    Pgbench,
}

impl Way {
    const ALL: [Way; 5] = [
        Way::Pool,
        Way::Held,
        Way::RawHeld,
        Way::Coalesced,
        Way::Pgbench,
    ];

    fn name(self) -> &'static str {
        match self {
            Way::Pool => "`upsert(&pool)` per call",
            Way::Held => "`upsert(&mut *conn)` per call, held connections",
            Way::RawHeld => "hand-written `INSERT .. ON CONFLICT` per call, held connections",
            Way::Coalesced => "`Writer::upsert` (coalesced)",
            Way::Pgbench => "pgbench, the same statement (`-M prepared`)",
        }
    }
}

/// One cell's result.
#[derive(Clone, Copy, Default)]
struct Cell {
    ops_per_s: f64,
    p50_us: u64,
    p99_us: u64,
    rows_per_batch: f64,
    batch_us: f64,
}

fn hit(rng: &mut u64) -> Hit {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let k = *rng % KEYS;
    Hit {
        page: format!("p{k}"),
        last: i64::try_from(k).unwrap_or_default(),
        n: 1,
    }
}

async fn pool(url: &str, connections: u32) -> PgPool {
    let options = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .disable_statement_logging();
    PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .connect_with(options)
        .await
        .unwrap()
}

/// `callers` tasks calling `way` for `duration`.
async fn run(
    url: &str,
    way: Way,
    callers: usize,
    duration: Duration,
    config: WriterConfig,
) -> Cell {
    if way == Way::Pgbench {
        return pgbench(url, callers, duration);
    }
    let connections = u32::try_from(callers).unwrap_or(u32::MAX);
    let pool = pool(
        url,
        if way == Way::Coalesced {
            2
        } else {
            connections
        },
    )
    .await;
    let writer = Hit::writer(&pool, config);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (pool, writer, stop) = (pool.clone(), writer.clone(), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3).unwrap();
            let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ (caller as u64 + 1);
            let mut conn = match way {
                Way::Held | Way::RawHeld => Some(pool.acquire().await.unwrap()),
                _ => None,
            };
            while !stop.load(Ordering::Relaxed) {
                let row = hit(&mut rng);
                let at = Instant::now();
                match way {
                    Way::Pool => {
                        row.upsert(&pool).await.unwrap();
                    }
                    Way::Held => {
                        row.upsert(&mut **conn.as_mut().unwrap()).await.unwrap();
                    }
                    Way::RawHeld => {
                        sqlx::query(HAND)
                            .bind(&row.page)
                            .bind(row.last)
                            .bind(row.n)
                            .execute(&mut **conn.as_mut().unwrap())
                            .await
                            .unwrap();
                    }
                    Way::Coalesced => {
                        writer.upsert(row).await.unwrap();
                    }
                    Way::Pgbench => unreachable!(),
                }
                let _ =
                    latencies.record(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            latencies
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Histogram::<u64>::new(3).unwrap();
    for task in tasks {
        latencies.add(task.await.unwrap()).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    writer.shutdown().await;
    let stats = writer.stats();
    pool.close().await;
    #[allow(clippy::cast_precision_loss)]
    Cell {
        ops_per_s: latencies.len() as f64 / elapsed,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
        rows_per_batch: stats.rows_per_batch(),
        batch_us: stats.mean_batch_time().as_secs_f64() * 1e6,
    }
}

/// pgbench with `clients` clients sending the hand-written statement for `duration`.
fn pgbench(url: &str, clients: usize, duration: Duration) -> Cell {
    let Some(pgbench) = find_pgbench() else {
        return Cell::default();
    };
    let script =
        std::env::temp_dir().join(format!("atomic-upsert-pgbench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        "\\set k random(0, 9999)\n\
         INSERT INTO hits (page, last, n) VALUES ('p' || :k, :k, 1) \
         ON CONFLICT (page) DO UPDATE SET last = EXCLUDED.last, n = hits.n + EXCLUDED.n;\n",
    )
    .unwrap();
    let out = Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &clients.to_string()])
        .args(["-T", &duration.as_secs().max(1).to_string()])
        .arg("-f")
        .arg(&script)
        .arg(url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench said: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let latency_ms = text
        .lines()
        .find(|l| l.starts_with("latency average = "))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_default();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Cell {
        ops_per_s: tps,
        p50_us: (latency_ms * 1000.0) as u64,
        p99_us: 0,
        rows_per_batch: 0.0,
        batch_us: 0.0,
    }
}

fn find_pgbench() -> Option<PathBuf> {
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v pgbench"])
        .output()
        && out.status.success()
    {
        return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[allow(clippy::cast_precision_loss)]
#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let server = upsert_testkit::Dedicated::start_durable();
    let url = server.url.clone();
    let duration = Duration::from_secs_f64(args.duration);
    let setup = pool(&url, 1).await;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&setup)
        .await
        .unwrap();
    println!(
        "PostgreSQL {version}, fsync=on, synchronous_commit=on; {KEYS} keys; {} s per cell, median of {} interleaved rounds; writer max_delay {} µs; pgbench {}",
        args.duration,
        args.rounds,
        args.max_delay_us,
        if find_pgbench().is_some() {
            "found"
        } else {
            "not installed (its rows are 0)"
        }
    );
    for &callers in &args.callers {
        let mut cells: Vec<Vec<Cell>> = vec![Vec::new(); Way::ALL.len()];
        for _ in 0..args.rounds {
            for (i, way) in Way::ALL.iter().enumerate() {
                sqlx::raw_sql(TABLE).execute(&setup).await.unwrap();
                let config = WriterConfig {
                    max_delay: Duration::from_micros(args.max_delay_us),
                    ..WriterConfig::default()
                };
                cells[i].push(run(&url, *way, callers, duration, config).await);
            }
        }
        let rate = |i: usize| median(cells[i].iter().map(|c| c.ops_per_s).collect());
        println!("\n#### {callers} concurrent callers\n");
        println!(
            "| strategy | ops/s | p50 µs | p99 µs | calls per statement | vs `upsert(&pool)` |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for (i, way) in Way::ALL.iter().enumerate() {
            let p50 = median(cells[i].iter().map(|c| c.p50_us as f64).collect());
            let p99 = median(cells[i].iter().map(|c| c.p99_us as f64).collect());
            let per = median(cells[i].iter().map(|c| c.rows_per_batch).collect());
            println!(
                "| {} | {:.0} | {p50:.0} | {} | {} | {:.2}x |",
                way.name(),
                rate(i),
                if *way == Way::Pgbench {
                    "–".to_owned()
                } else {
                    format!("{p99:.0}")
                },
                if *way == Way::Coalesced {
                    format!("{per:.1}")
                } else {
                    "1".to_owned()
                },
                rate(i) / rate(0)
            );
        }
        let batch_us = median(cells[3].iter().map(|c| c.batch_us).collect());
        println!(
            "\ncoalesced / raw statement on held connections: {:.2}x; coalesced / pgbench: {:.2}x; \
             coalesced batch time (mean per batch, median over rounds): {batch_us:.0} µs",
            rate(3) / rate(2),
            rate(3) / rate(4)
        );
    }
    setup.close().await;
}
