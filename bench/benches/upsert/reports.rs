//! The reports: the Markdown tables (printed on stdout and written to `report.md`) and
//! `report.json`, from the aggregated cells; [`write_reports`] writes them and the chart.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::{Kind, VERSION_WINDOW};
use crate::runner::{Budget, Check, Mode};
use crate::statistics::{BulkCell, Cell, f64_of, find, median, ratio, signed_rate};
use crate::strategies::Strategy;
use crate::{Args, Plan, bulk, chart};

impl Cell {
    /// The label in this workload's tables.
    pub fn label(&self) -> &'static str {
        self.strategy.label_for(self.kind)
    }
    fn lost_text(&self) -> String {
        self.lost_increments().map_or_else(
            || "–".to_owned(),
            |(all, lost)| format!("{lost} of {all} ({:.2}%)", 100.0 * signed_rate(lost, all)),
        )
    }
    fn stale_text(&self) -> String {
        self.stale_overwrites().map_or_else(
            || "–".to_owned(),
            |(keys, below, behind)| format!("{below} of {keys} keys ({behind} versions behind)"),
        )
    }
    fn skipped_text(&self) -> String {
        format!(
            "{} ({:.1}%)",
            self.skipped(),
            100.0 * f64_of(self.skipped()) / f64_of(self.ok().max(1))
        )
    }
    fn correctness_json(&self) -> Value {
        match self.kind {
            Kind::Counter => self.lost_increments().map_or(Value::Null, |(all, lost)| {
                json!({
                    "successful_increments": all,
                    "lost_increments": lost,
                    "lost_rate": signed_rate(lost, all),
                })
            }),
            Kind::Version => {
                self.stale_overwrites()
                    .map_or(Value::Null, |(keys, below, behind)| {
                        json!({
                            "keys_checked": keys,
                            "stale_overwrites": below,
                            "versions_behind": behind,
                            "skipped": self.skipped(),
                            "skipped_rate": f64_of(self.skipped()) / f64_of(self.ok().max(1)),
                        })
                    })
            }
            _ => Value::Null,
        }
    }
    fn errors_text(&self) -> String {
        let errors = self.errors();
        if errors.is_empty() {
            return "0".to_owned();
        }
        let attempts = f64_of(self.attempts().max(1));
        errors
            .iter()
            .map(|(code, n)| format!("{code}: {n} ({:.2}%)", 100.0 * f64_of(*n) / attempts))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A group of cells: one workload under one pool setting.
pub fn group_title(cell: &Cell) -> String {
    let what = match cell.kind {
        Kind::Sequential => format!("{} existing keys", cell.keys),
        Kind::Concurrent => format!("{} hot existing keys", cell.keys),
        Kind::Race => format!(
            "fresh keys, each written by {} consecutive operations",
            cell.workers
        ),
        Kind::Counter => format!(
            "{} hot existing counters (from 0), each operation adds 1",
            cell.keys
        ),
        Kind::Version => format!(
            "{} hot existing keys, one event stream in order with each key's versions shuffled within windows of {}",
            cell.keys, VERSION_WINDOW
        ),
    };
    format!(
        "{} — {} worker{}, {what}; {}; pool: max_connections={}, min_connections={}, test_before_acquire={}",
        cell.kind.key(),
        cell.workers,
        if cell.workers == 1 { "" } else { "s" },
        cell.mode.describe(),
        cell.workers,
        cell.workers,
        cell.mode.test_before_acquire()
    )
}

/// The single-row tables, one per workload and pool setting, in Markdown.
pub fn single_tables(cells: &[Cell], budget: Budget) -> String {
    let mut out = String::new();
    let mut groups: Vec<(Kind, Mode)> = Vec::new();
    for cell in cells {
        if !groups.contains(&(cell.kind, cell.mode)) {
            groups.push((cell.kind, cell.mode));
        }
    }
    for (kind, mode) in groups {
        let group: Vec<&Cell> = cells
            .iter()
            .filter(|c| c.kind == kind && c.mode == mode)
            .collect();
        let _ = writeln!(out, "### {}\n", group_title(group[0]));
        let each = match budget {
            Budget::Time(duration) => format!("{:.2} s", duration.as_secs_f64()),
            Budget::Calls(per_worker) => format!("{per_worker} calls per worker"),
        };
        let _ = writeln!(
            out,
            "Median of {} interleaved rounds of {each} each.\n",
            group[0].rounds.len(),
        );
        let (extra, extra_rule) = match kind {
            Kind::Counter => (" lost increments, all rounds (rate) |", "---|"),
            Kind::Version => (
                " skipped as stale (rate) | stale overwrites: keys ended below the max sent, all rounds |",
                "---|---|",
            ),
            _ => ("", ""),
        };
        let _ = writeln!(
            out,
            "| strategy | ops/s | (min–max) | vs naive | vs hand | mean µs | p50 µs | p99 µs | errors (rate), by SQLSTATE | statements/op | round trips/op | pool pings/op |{extra}"
        );
        let _ = writeln!(
            out,
            "|---|---|---|---|---|---|---|---|---|---|---|---|{extra_rule}"
        );
        for cell in group {
            let (lo, hi) = cell.range();
            let (stmts, trips, pings) = cell.per_op().map_or(
                ("–".to_owned(), "–".to_owned(), "–".to_owned()),
                |(s, t, p)| (format!("{s:.2}"), format!("{t:.2}"), format!("{p:.2}")),
            );
            let extra = match kind {
                Kind::Counter => format!(" {} |", cell.lost_text()),
                Kind::Version => format!(" {} | {} |", cell.skipped_text(), cell.stale_text()),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {lo:.0}–{hi:.0} | {:.2}x | {:.2}x | {:.0} | {:.0} | {:.0} | {} | {stmts} | {trips} | {pings} |{extra}",
                cell.label(),
                cell.throughput(),
                ratio(cells, cell, Strategy::Naive),
                ratio(cells, cell, Strategy::Hand),
                cell.mean_us(),
                cell.p50_us(),
                cell.p99_us(),
                cell.errors_text(),
            );
        }
        out.push('\n');
    }
    out
}

/// The targets, checked against this run's figures.
pub fn headline(cells: &[Cell]) -> (String, Vec<Value>) {
    let mut out = String::new();
    let mut checks = Vec::new();
    let _ = writeln!(
        out,
        "| workload | connections | derive / hand (target ≥ 0.98) | per-round derive / hand: median (min–max) | derive / naive (target ≥ 1.4) | errors: naive | errors: derive |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for kind in [Kind::Sequential, Kind::Concurrent, Kind::Race] {
        for mode in Mode::ALL {
            let (Some(derive), Some(hand), Some(naive)) = (
                find(cells, kind, mode, Strategy::Derive),
                find(cells, kind, mode, Strategy::Hand),
                find(cells, kind, mode, Strategy::Naive),
            ) else {
                continue;
            };
            let vs_hand = derive.throughput() / hand.throughput();
            let paired: Vec<f64> = derive
                .rounds
                .iter()
                .zip(&hand.rounds)
                .map(|(d, h)| d.throughput / h.throughput)
                .collect();
            let (lo, hi) = paired
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                    (lo.min(*r), hi.max(*r))
                });
            let paired_median = median(paired.iter().copied());
            let vs_naive = derive.throughput() / naive.throughput();
            let mark = |ok: bool| if ok { "" } else { " (below target)" };
            let _ = writeln!(
                out,
                "| {} ({} workers) | {} | {vs_hand:.3}x{} | {paired_median:.3}x ({lo:.2}–{hi:.2}) | {vs_naive:.2}x{} | {} | {} |",
                kind.key(),
                derive.workers,
                mode.short(),
                mark(vs_hand >= 0.98),
                mark(vs_naive >= 1.4),
                naive.error_count(),
                derive.error_count(),
            );
            checks.push(json!({
                "workload": kind.key(),
                "workers": derive.workers,
                "connections": mode.key(),
                "test_before_acquire": mode.test_before_acquire(),
                "derive_vs_hand": vs_hand,
                "derive_vs_hand_per_round": paired,
                "derive_vs_naive": vs_naive,
                "naive_errors": naive.error_count(),
                "derive_errors": derive.error_count(),
            }));
        }
    }
    (out, checks)
}

/// The counter and version workloads: throughput and what each strategy did to the data.
pub fn correctness(cells: &[Cell]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | connections | strategy | ops/s | vs naive | vs hand | errors | lost increments (rate) | stale overwrites: keys below max sent | skipped as stale (rate) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for cell in cells.iter().filter(|c| c.kind.checked()) {
        let _ = writeln!(
            out,
            "| {} ({} workers) | {} | {} | {:.0} | {:.2}x | {:.2}x | {} | {} | {} | {} |",
            cell.kind.key(),
            cell.workers,
            cell.mode.short(),
            cell.label(),
            cell.throughput(),
            ratio(cells, cell, Strategy::Naive),
            ratio(cells, cell, Strategy::Hand),
            cell.error_count(),
            cell.lost_text(),
            cell.stale_text(),
            if cell.kind == Kind::Version {
                cell.skipped_text()
            } else {
                "–".to_owned()
            },
        );
    }
    out
}

pub fn cells_json(cells: &[Cell]) -> Value {
    Value::Array(
        cells
            .iter()
            .map(|cell| {
                let per_op = cell.per_op();
                json!({
                    "workload": cell.kind.key(),
                    "workers": cell.workers,
                    "keys": cell.keys,
                    "connections": cell.mode.key(),
                    "pool": {
                        "max_connections": cell.workers,
                        "min_connections": cell.workers,
                        "test_before_acquire": cell.mode.test_before_acquire(),
                    },
                    "strategy": cell.strategy.key(),
                    "label": cell.label(),
                    "median": {
                        "ops_per_s": cell.throughput(),
                        "mean_us": cell.mean_us(),
                        "p50_us": cell.p50_us(),
                        "p99_us": cell.p99_us(),
                    },
                    "vs_naive": ratio(cells, cell, Strategy::Naive),
                    "vs_hand": ratio(cells, cell, Strategy::Hand),
                    "errors": cell.errors(),
                    "attempts": cell.attempts(),
                    "skipped": cell.skipped(),
                    "correctness": cell.correctness_json(),
                    "counted": cell.counted.map(|(c, ops)| json!({
                        "operations": ops,
                        "statements": c.statements,
                        "round_trips": c.round_trips,
                        "pings": c.pings,
                        "statements_per_op": per_op.map(|p| p.0),
                        "round_trips_per_op": per_op.map(|p| p.1),
                        "pings_per_op": per_op.map(|p| p.2),
                    })),
                    "rounds": cell.rounds.iter().map(|r| json!({
                        "ops_per_s": r.throughput,
                        "mean_us": r.mean_us,
                        "p50_us": r.p50_us,
                        "p99_us": r.p99_us,
                        "ok": r.ok,
                        "skipped": r.skipped,
                        "errors": r.errors,
                        "check": match r.check {
                            Some(Check::Counter { increments, stored }) => json!({
                                "increments": increments,
                                "stored_sum": stored,
                            }),
                            Some(Check::Version { keys, below_max, behind }) => json!({
                                "keys": keys,
                                "below_max": below_max,
                                "versions_behind": behind,
                            }),
                            None => Value::Null,
                        },
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

pub fn bulk_tables(cells: &[BulkCell]) -> String {
    let mut out = String::new();
    let mut sizes: Vec<usize> = cells.iter().map(|c| c.rows).collect();
    sizes.dedup();
    for size in sizes {
        let group: Vec<&BulkCell> = cells.iter().filter(|c| c.rows == size).collect();
        let Some(base) = group
            .iter()
            .find(|c| c.strategy == bulk::Strategy::HandCopy)
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "### bulk — {size} rows, median of {} interleaved rounds; pool: max_connections=2, test_before_acquire=true\n",
            base.insert.len()
        );
        let _ = writeln!(
            out,
            "| strategy | insert | update | insert rows/s | insert vs hand COPY | update vs hand COPY | statements (insert + update) | round trips (insert + update) |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for cell in &group {
            let (stmts, trips) = cell.counted.map_or(("–".to_owned(), "–".to_owned()), |c| {
                (c.statements.to_string(), c.round_trips.to_string())
            });
            let _ = writeln!(
                out,
                "| {} | {:.1} ms | {:.1} ms | {:.0} | {:.2}x | {:.2}x | {stmts} | {trips} |",
                cell.strategy.label(),
                cell.insert_ms(),
                cell.update_ms(),
                f64_of(size as u64) / (cell.insert_ms() / 1e3),
                cell.insert_ms() / base.insert_ms(),
                cell.update_ms() / base.update_ms(),
            );
        }
        out.push('\n');
    }
    out
}

pub fn bulk_json(cells: &[BulkCell]) -> Value {
    Value::Array(
        cells
            .iter()
            .map(|cell| {
                json!({
                    "rows": cell.rows,
                    "strategy": cell.strategy.key(),
                    "label": cell.strategy.label(),
                    "median_insert_ms": cell.insert_ms(),
                    "median_update_ms": cell.update_ms(),
                    "insert_ms": cell.insert.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                    "update_ms": cell.update.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                    "counted": cell.counted.map(|c| json!({
                        "statements": c.statements,
                        "round_trips": c.round_trips,
                        "pings": c.pings,
                    })),
                })
            })
            .collect(),
    )
}

/// Everything a run measured, for the reports.
pub struct Measured {
    pub cells: Vec<Cell>,
    pub bulk: Vec<BulkCell>,
    pub memory: Option<String>,
    pub server: String,
    pub elapsed: Duration,
}

fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
            PathBuf::from,
        )
        .join("upsert-bench")
}

/// Prints the tables and writes `report.md`, `report.json` and `bench.svg`.
pub fn write_reports(
    args: &Args,
    plan: &Plan,
    run: &Measured,
) -> Result<(), Box<dyn std::error::Error>> {
    let command = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect::<Vec<_>>();
    let command = if command.is_empty() {
        "cargo bench -p atomic-upsert-bench --bench upsert".to_owned()
    } else {
        format!(
            "cargo bench -p atomic-upsert-bench --bench upsert -- {}",
            command.join(" ")
        )
    };
    let (headline, checks) = headline(&run.cells);
    let mut md = String::new();
    let _ = writeln!(md, "# Upsert benchmark report\n");
    let _ = writeln!(
        md,
        "Command: `{command}`. {}. {} CPUs. Run took {:.0} s.\n",
        run.server,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        run.elapsed.as_secs_f64()
    );
    if !run.cells.is_empty() {
        if !checks.is_empty() {
            let _ = writeln!(md, "## Targets\n\n{headline}");
        }
        if run.cells.iter().any(|c| c.kind.checked()) {
            let _ = writeln!(
                md,
                "## Lost increments and stale writes\n\n{}",
                correctness(&run.cells)
            );
        }
        let _ = writeln!(md, "## Single-row upserts\n");
        md.push_str(&single_tables(&run.cells, plan.duration));
    }
    if !run.bulk.is_empty() {
        let _ = writeln!(md, "## Bulk upserts\n");
        md.push_str(&bulk_tables(&run.bulk));
    }
    if let Some(memory) = &run.memory {
        md.push_str(memory);
    }
    println!("{md}");

    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("report.md"), &md)?;
    let report = json!({
        "command": command,
        "server": run.server,
        "seconds": run.elapsed.as_secs_f64(),
        "rounds": plan.rounds,
        "check_rounds": plan.check_rounds,
        "cell_seconds": match plan.duration {
            Budget::Time(duration) => Some(duration.as_secs_f64()),
            Budget::Calls(_) => None,
        },
        "calls_per_worker": match plan.duration {
            Budget::Calls(calls) => Some(calls),
            Budget::Time(_) => None,
        },
        "bulk_rounds": plan.bulk_rounds,
        "workers": args.workers,
        "keys": args.keys,
        "hot_keys": args.hot_keys,
        "targets": checks,
        "single": cells_json(&run.cells),
        "bulk": bulk_json(&run.bulk),
    });
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    if !run.cells.is_empty() {
        chart::chart(
            &run.cells,
            &dir.join("bench.svg"),
            &format!("atomic-upsert: single-row upserts ({command})"),
        )?;
    }
    eprintln!(
        "wrote {} (report.md, report.json, bench.svg)",
        dir.display()
    );
    Ok(())
}
