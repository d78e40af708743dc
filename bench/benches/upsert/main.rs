//! Upsert benchmark suite against a real PostgreSQL (`DATABASE_URL`, or a throwaway server
//! started by `upsert-testkit`, as the tests do).
//!
//! ```text
//! cargo bench -p atomic-upsert-bench --bench upsert                 # full run, about 10 minutes on 2 cores
//! cargo bench -p atomic-upsert-bench --bench upsert -- --quick      # under a minute
//! cargo bench -p atomic-upsert-bench --bench upsert -- --help       # flags: --duration, --rounds, --workers, --keys, ..
//! ```
//!
//! Single-row upserts on the seed's `strava_stats (stats_type text PRIMARY KEY, data jsonb,
//! updated_at timestamptz)` table, five strategies in one process:
//!
//! - naive: `SELECT`, then `INSERT` or `UPDATE` (one pooled connection per operation);
//! - naive + retry: the same, repeated up to 3 times after a 23505 (unique violation);
//! - `MERGE` (PostgreSQL 15);
//! - the derive's `upsert()`;
//! - hand-written `sqlx::query` with the derive's SQL (asserted equal to
//!   `StravaStats::UPSERT_SQL` at startup), binds and outcome decoding.
//!
//! Workloads: *sequential* (1 worker, existing keys), *concurrent* (`--workers` over
//! `--hot-keys` existing keys) and *race* (`--workers` on fresh keys, each key hit by
//! `--workers` consecutive operations, so rows are created during the run). Each runs
//! three ways: `&pool` per operation with the pool's `test_before_acquire` on (sqlx's
//! default: a ping per checkout), the same with it off, and on one connection held by each
//! worker for the whole run.
//!
//! Two more workloads check what each strategy does to the data, on tables of their own,
//! with three strategies (naive, derive, hand-written with the derive's SQL, asserted):
//! *counter* (`--workers` adding 1 to `--hot-keys` counters; `#[upsert(add)]`), where the
//! stored sums are compared with the successful increments after every cell ("lost
//! increments"), and *version* (`--workers` sending one stream of events for `--hot-keys`
//! keys, each key's versions shuffled within windows of 4; `#[upsert(version)]`), where each
//! key's stored version is compared with the highest version successfully sent for it
//! ("stale overwrites"), and writes skipped as stale are counted. They run
//! `--check-rounds` of the interleaved rounds (5 by default).
//!
//! Then bulk upserts of 10k and 100k rows by seven strategies (`upsert_many` and
//! hand-written alternatives).
//!
//! Every round runs every cell once, strategies in an order rotated every round and
//! reversed every other round; tables report the medians over rounds. Latencies come from HDR histograms. Statements and round trips per
//! operation are *counted* by a protocol-parsing TCP proxy, in a separate short pass per
//! cell, so the proxy never slows a timed run. Inputs are built before timing.
//!
//! Output: a progress bar, the tables on stdout, and `target/upsert-bench/report.md`,
//! `report.json` and `bench.svg`.
//!
//! Modules: `fixtures` (the tables, the derived structs, the hand-written SQL, each
//! workload's inputs), `strategies` (what each strategy sends for one operation), `runner`
//! (one cell: pools, workers, histograms, samples, checks), `statistics` (medians, ratios,
//! rates, the aggregation into rounds and cells), `reports` (the Markdown tables and the
//! JSON), `chart` (the SVG), `proxy` (the counting proxy) and `bulk` (the bulk workloads,
//! self-contained); this file has the flags and the order of the run.

mod bulk;
mod chart;
mod fixtures;
mod proxy;
mod reports;
mod runner;
mod statistics;
mod strategies;

use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgPool};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use fixtures::{Kind, Workload};
use reports::Measured;
use runner::{Mode, open_pool, start_proxy};
use statistics::{BulkCell, Cell};

/// Upsert benchmark suite: throughput, latency, errors and counted statements per
/// strategy, against a real PostgreSQL.
#[derive(Parser, Debug)]
#[command(name = "upsert-bench")]
#[allow(clippy::struct_excessive_bools)]
struct Args {
    /// A short run (under a minute): 2 rounds of 0.2 s cells, bulk at 10k rows only.
    #[arg(long)]
    quick: bool,
    /// Seconds each single-row cell runs per round [default: 0.75, --quick: 0.2].
    #[arg(long)]
    duration: Option<f64>,
    /// Instead of timed cells, every worker makes this many calls per measured round
    /// (e.g. `--workloads counter --workers 64 --ops-per-worker 10000`).
    #[arg(long)]
    ops_per_worker: Option<u64>,
    /// Interleaved rounds; medians are over these [default: 9, --quick: 2].
    #[arg(long)]
    rounds: Option<usize>,
    /// Workers (and pool connections) of the concurrent and race workloads.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Existing keys the sequential worker cycles through.
    #[arg(long, default_value_t = 10_000)]
    keys: usize,
    /// Existing hot keys the concurrent workers share.
    #[arg(long, default_value_t = 8)]
    hot_keys: usize,
    /// Fresh keys prepared for the race workload (used in groups of --workers).
    #[arg(long, default_value_t = 100_000)]
    fresh_keys: usize,
    /// Single-row workloads to run: sequential, concurrent, race, counter, version (`none`
    /// for bulk only).
    #[arg(long, value_delimiter = ',', default_values_t = ["sequential".to_owned(), "concurrent".to_owned(), "race".to_owned(), "counter".to_owned(), "version".to_owned()])]
    workloads: Vec<String>,
    /// Interleaved rounds of the counter and version workloads (at most --rounds)
    /// [default: 5, --quick: 1].
    #[arg(long)]
    check_rounds: Option<usize>,
    /// Bulk batch sizes [default: 10000,100000, --quick: 10000].
    #[arg(long, value_delimiter = ',')]
    bulk_rows: Option<Vec<usize>>,
    /// Rounds of the bulk workloads [default: 5, --quick: 2].
    #[arg(long)]
    bulk_rounds: Option<usize>,
    /// Skip the bulk workloads.
    #[arg(long)]
    no_bulk: bool,
    /// Also upsert 1,000,000 rows through `upsert_many` and report the peak memory.
    #[arg(long)]
    memory: bool,
    /// Threads of the benchmark's own tokio runtime: 0 for tokio's default (one per
    /// core, as `#[tokio::main]`), 1 for a current-thread runtime.
    #[arg(long, default_value_t = 0)]
    client_threads: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The settings of this run, resolved from the flags.
struct Plan {
    duration: runner::Budget,
    rounds: usize,
    check_rounds: usize,
    bulk_rounds: usize,
    bulk_rows: Vec<usize>,
    warmup: Duration,
    count_for: Duration,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let duration = args.duration.unwrap_or(if args.quick { 0.2 } else { 0.75 });
        let rounds = args.rounds.unwrap_or(if args.quick { 2 } else { 9 }).max(1);
        Plan {
            duration: match args.ops_per_worker {
                Some(calls) => runner::Budget::Calls(calls),
                None => runner::Budget::Time(Duration::from_secs_f64(duration)),
            },
            rounds,
            check_rounds: args
                .check_rounds
                .unwrap_or(if args.quick { 1 } else { 5 })
                .clamp(1, rounds),
            bulk_rounds: args
                .bulk_rounds
                .unwrap_or(if args.quick { 2 } else { 5 })
                .max(1),
            bulk_rows: if args.no_bulk {
                Vec::new()
            } else {
                args.bulk_rows.clone().unwrap_or_else(|| {
                    if args.quick {
                        vec![10_000]
                    } else {
                        vec![10_000, 100_000]
                    }
                })
            },
            warmup: Duration::from_secs_f64(if args.quick { 0.05 } else { 0.2 }),
            count_for: Duration::from_secs_f64(if args.quick { 0.1 } else { 0.5 }),
        }
    }
}

/// One workload under one pool setting, with its pool.
struct Combo {
    workload: usize,
    mode: Mode,
    pool: PgPool,
    /// Index of its first cell; its strategies' cells follow in `Kind::strategies` order.
    first: usize,
}

/// The selected single-row workloads, with their workers and keys.
fn workloads_of(args: &Args) -> Vec<(Kind, usize, usize)> {
    [
        (Kind::Sequential, 1, args.keys),
        (Kind::Concurrent, args.workers, args.hot_keys),
        (Kind::Race, args.workers, args.fresh_keys),
        (Kind::Counter, args.workers, args.hot_keys),
        (Kind::Version, args.workers, args.hot_keys),
    ]
    .into_iter()
    .filter(|(kind, _, _)| args.workloads.iter().any(|w| w == kind.key()))
    .collect()
}

/// Rounds a workload runs.
fn rounds_of(plan: &Plan, kind: Kind) -> usize {
    if kind.checked() {
        plan.check_rounds
    } else {
        plan.rounds
    }
}

fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} cells, eta {eta}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The strategy that runs `k`-th in round `round`: the order is rotated every round (no
/// strategy always runs first) and reversed every other round (no strategy always runs
/// right after the same neighbour).
fn order(round: usize, k: usize, n: usize) -> usize {
    let s = (k + round) % n;
    if round % 2 == 1 { n - 1 - s } else { s }
}

/// Timed rounds of every single-row cell, interleaved; then the counting passes.
async fn single_row(
    args: &Args,
    plan: &Plan,
    admin: &PgPool,
    options: &sqlx::postgres::PgConnectOptions,
    bar: &ProgressBar,
) -> Result<Vec<Cell>, Box<dyn std::error::Error>> {
    let workloads: Vec<Workload> = workloads_of(args)
        .into_iter()
        .map(|(kind, workers, keys)| Workload::new(kind, workers, keys))
        .collect();
    let mut combos = Vec::new();
    let mut cells = Vec::new();
    for (w, workload) in workloads.iter().enumerate() {
        for mode in Mode::ALL {
            combos.push(Combo {
                workload: w,
                mode,
                pool: open_pool(options, workload.workers, mode.test_before_acquire()).await?,
                first: cells.len(),
            });
            for &strategy in workload.kind.strategies() {
                cells.push(Cell {
                    kind: workload.kind,
                    workers: workload.workers,
                    keys: workload.keys,
                    mode,
                    strategy,
                    rounds: Vec::new(),
                    counted: None,
                });
            }
        }
    }
    // Warm-up: open every connection and prepare every statement on it.
    bar.set_message("warm-up");
    for combo in &combos {
        let workload = &workloads[combo.workload];
        for &strategy in workload.kind.strategies() {
            workload.reset(admin).await?;
            runner::run_cell(&combo.pool, combo.mode, strategy, workload, plan.warmup).await;
        }
    }
    for round in 0..plan.rounds {
        for (c, combo) in combos.iter().enumerate() {
            let workload = &workloads[combo.workload];
            if round >= rounds_of(plan, workload.kind) {
                continue;
            }
            let strategies = workload.kind.strategies();
            let n = strategies.len();
            for k in 0..n {
                let s = order(round + c, k, n);
                let strategy = strategies[s];
                bar.set_message(format!(
                    "round {}/{}: {} ({}), {}",
                    round + 1,
                    plan.rounds,
                    workload.kind.key(),
                    combo.mode.short(),
                    strategy.key()
                ));
                workload.reset(admin).await?;
                let sample =
                    runner::run_cell(&combo.pool, combo.mode, strategy, workload, plan.duration)
                        .await;
                let check = workload.check(admin, &sample).await?;
                cells[combo.first + s]
                    .rounds
                    .push(statistics::round_of(&sample, check));
                bar.inc(1);
            }
        }
    }
    for combo in &combos {
        combo.pool.close().await;
    }
    count_single(plan, admin, options, &workloads, &mut cells, bar).await?;
    Ok(cells)
}

/// The counting pass: every cell again, briefly, through the proxy.
async fn count_single(
    plan: &Plan,
    admin: &PgPool,
    options: &sqlx::postgres::PgConnectOptions,
    workloads: &[Workload],
    cells: &mut [Cell],
    bar: &ProgressBar,
) -> Result<(), Box<dyn std::error::Error>> {
    let (counts, through) = start_proxy(options).await?;
    for workload in workloads {
        for mode in Mode::ALL {
            let pool = open_pool(&through, workload.workers, mode.test_before_acquire()).await?;
            for &strategy in workload.kind.strategies() {
                bar.set_message(format!(
                    "counting: {} ({}), {}",
                    workload.kind.key(),
                    mode.short(),
                    strategy.key()
                ));
                workload.reset(admin).await?;
                runner::run_cell(&pool, mode, strategy, workload, plan.warmup).await;
                workload.reset(admin).await?;
                counts.take();
                let sample =
                    runner::run_cell(&pool, mode, strategy, workload, plan.count_for).await;
                let attempts = sample.ops + sample.errors.values().sum::<u64>();
                let cell = cells
                    .iter_mut()
                    .find(|c| c.kind == workload.kind && c.mode == mode && c.strategy == strategy)
                    .ok_or("every counted cell was timed")?;
                cell.counted = Some((counts.take(), attempts));
                bar.inc(1);
            }
            pool.close().await;
        }
    }
    Ok(())
}

/// Bulk rounds (each round runs every strategy, rotated), then one counted pass per
/// strategy at the smallest size.
async fn bulk_rows(
    plan: &Plan,
    options: &sqlx::postgres::PgConnectOptions,
    bar: &ProgressBar,
) -> Result<Vec<BulkCell>, Box<dyn std::error::Error>> {
    let pool = open_pool(options, 2, true).await?;
    let n = bulk::Strategy::ALL.len();
    let mut cells = Vec::new();
    for &size in &plan.bulk_rows {
        let fresh = bulk::rows(size, 1);
        let update = bulk::rows(size, 2);
        let first = cells.len();
        for strategy in bulk::Strategy::ALL {
            cells.push(BulkCell {
                rows: size,
                strategy,
                insert: Vec::new(),
                update: Vec::new(),
                counted: None,
            });
        }
        for round in 0..plan.bulk_rounds {
            for k in 0..n {
                let s = order(round, k, n);
                let strategy = bulk::Strategy::ALL[s];
                bar.set_message(format!(
                    "bulk {size} rows, round {}/{}: {}",
                    round + 1,
                    plan.bulk_rounds,
                    strategy.key()
                ));
                let (insert, update) = bulk::run_cell(&pool, strategy, &fresh, &update).await?;
                cells[first + s].insert.push(insert);
                cells[first + s].update.push(update);
                bar.inc(1);
            }
        }
    }
    pool.close().await;
    if let Some(&size) = plan.bulk_rows.iter().min() {
        let (counts, through) = start_proxy(options).await?;
        let counted_pool = open_pool(&through, 2, true).await?;
        let fresh = bulk::rows(size, 1);
        let update = bulk::rows(size, 2);
        for cell in cells.iter_mut().filter(|c| c.rows == size) {
            bar.set_message(format!(
                "counting: bulk {size} rows, {}",
                cell.strategy.key()
            ));
            // Warm-up (prepares the statements), then the counted insert + update.
            bulk::run_cell(&counted_pool, cell.strategy, &fresh, &update).await?;
            sqlx::raw_sql("TRUNCATE row").execute(&counted_pool).await?;
            counts.take();
            bulk::run(&counted_pool, cell.strategy, &fresh).await?;
            bulk::run(&counted_pool, cell.strategy, &update).await?;
            cell.counted = Some(counts.take());
            bar.inc(1);
        }
        counted_pool.close().await;
    }
    Ok(cells)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = match args.client_threads {
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let plan = Plan::new(&args);
    fixtures::assert_hand_sql();
    let started = Instant::now();
    let server = upsert_testkit::server();
    let db = upsert_testkit::TestDb::new(2).await;
    fixtures::create_tables(&db.pool).await?;
    sqlx::raw_sql(bulk::CREATE_TABLE).execute(&db.pool).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&db.pool)
        .await?;
    let options = upsert_testkit::connect_options().options([("search_path", db.schema.as_str())]);

    // Timed rounds plus the counting pass, per cell.
    let single_cells: usize = workloads_of(&args)
        .iter()
        .map(|(kind, _, _)| {
            Mode::ALL.len() * kind.strategies().len() * (rounds_of(&plan, *kind) + 1)
        })
        .sum();
    let bulk_cells = plan.bulk_rows.len() * bulk::Strategy::ALL.len();
    let total = single_cells
        + bulk_cells * plan.bulk_rounds
        + usize::from(!plan.bulk_rows.is_empty()) * bulk::Strategy::ALL.len();
    let bar = progress(total as u64);
    let cells = single_row(&args, &plan, &db.pool, &options, &bar).await?;
    let bulk = bulk_rows(&plan, &options, &bar).await?;
    let memory = if args.memory {
        bar.set_message("memory check");
        Some(bulk::memory_check(&db.pool).await?)
    } else {
        None
    };
    bar.finish_and_clear();
    db.finish().await;
    let server = format!(
        "PostgreSQL {version} via {}",
        if server.throwaway {
            "a throwaway upsert-testkit server (fsync=off, synchronous_commit=off, full_page_writes=off, shared_buffers=256MB), loopback"
        } else {
            "DATABASE_URL"
        }
    );
    reports::write_reports(
        &args,
        &plan,
        &Measured {
            cells,
            bulk,
            memory,
            server,
            elapsed: started.elapsed(),
        },
    )
}
