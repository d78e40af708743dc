//! Medians over rounds, and the terminal table, `report.md`, `report.json` and the SVG chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::{Value, json};

use crate::proxy::Counted;
use crate::single::{Check, Kind, Mode, Strategy};
use crate::{bulk, f64_of};

/// One round of one single-row cell.
pub struct Round {
    pub throughput: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub ok: u64,
    /// Successful operations that wrote nothing (a stale event).
    pub skipped: u64,
    pub errors: BTreeMap<String, u64>,
    /// The table checked after the cell (counter and version workloads).
    pub check: Option<Check>,
}

/// Everything about one single-row cell (workload x pool setting x strategy).
pub struct Cell {
    pub kind: Kind,
    pub workers: usize,
    pub keys: usize,
    pub mode: Mode,
    pub strategy: Strategy,
    pub rounds: Vec<Round>,
    /// The counting pass: what the proxy saw, and how many operations it saw it for.
    pub counted: Option<(Counted, u64)>,
}

/// `n / of`, for a count that may be negative (counts here are far below 2^52).
#[allow(clippy::cast_precision_loss)]
fn signed_rate(n: i64, of: u64) -> f64 {
    n as f64 / f64_of(of.max(1))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    }
}

impl Cell {
    pub fn throughput(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.throughput))
    }
    fn mean_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.mean_us))
    }
    fn p50_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.p50_us))
    }
    pub fn p99_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.p99_us))
    }
    fn range(&self) -> (f64, f64) {
        self.rounds
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r.throughput), hi.max(r.throughput))
            })
    }
    /// Errors summed over all rounds, by SQLSTATE.
    pub fn errors(&self) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for round in &self.rounds {
            for (code, n) in &round.errors {
                *all.entry(code.clone()).or_insert(0) += n;
            }
        }
        all
    }
    /// Attempted operations (successes and failures) over all rounds.
    fn attempts(&self) -> u64 {
        self.rounds
            .iter()
            .map(|r| r.ok + r.errors.values().sum::<u64>())
            .sum()
    }
    pub fn error_count(&self) -> u64 {
        self.errors().values().sum()
    }
    /// The label in this workload's tables.
    pub fn label(&self) -> &'static str {
        self.strategy.label_for(self.kind)
    }
    fn ok(&self) -> u64 {
        self.rounds.iter().map(|r| r.ok).sum()
    }
    /// Successful operations that wrote nothing, over all rounds.
    pub fn skipped(&self) -> u64 {
        self.rounds.iter().map(|r| r.skipped).sum()
    }
    /// Counter workload, over all rounds: successful increments, and how many of them
    /// the stored sums are missing.
    pub fn lost_increments(&self) -> Option<(u64, i64)> {
        let mut found = None;
        for round in &self.rounds {
            if let Some(Check::Counter { increments, stored }) = round.check {
                let (all, lost) = found.get_or_insert((0, 0));
                *all += increments;
                *lost += i64::try_from(increments).unwrap_or(i64::MAX) - stored;
            }
        }
        found
    }
    /// Version workload, over all rounds: keys checked, keys whose stored version ended
    /// below the highest successfully sent, and the versions missing in all.
    pub fn stale_overwrites(&self) -> Option<(u64, u64, u64)> {
        let mut found = None;
        for round in &self.rounds {
            if let Some(Check::Version {
                keys,
                below_max,
                behind,
            }) = round.check
            {
                let (k, b, v) = found.get_or_insert((0, 0, 0));
                *k += keys;
                *b += below_max;
                *v += behind;
            }
        }
        found
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
    fn per_op(&self) -> Option<(f64, f64, f64)> {
        let (counted, ops) = self.counted?;
        let ops = f64_of(ops.max(1));
        Some((
            f64_of(counted.statements) / ops,
            f64_of(counted.round_trips) / ops,
            f64_of(counted.pings) / ops,
        ))
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
            cell.keys,
            crate::single::VERSION_WINDOW
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

/// A short group name for the chart.
fn group_short(cell: &Cell) -> String {
    format!(
        "{} {}w, {}",
        cell.kind.key(),
        cell.workers,
        cell.mode.short()
    )
}

fn find(cells: &[Cell], kind: Kind, mode: Mode, strategy: Strategy) -> Option<&Cell> {
    cells
        .iter()
        .find(|c| c.kind == kind && c.mode == mode && c.strategy == strategy)
}

fn ratio(cells: &[Cell], cell: &Cell, base: Strategy) -> f64 {
    find(cells, cell.kind, cell.mode, base).map_or(f64::NAN, |b| cell.throughput() / b.throughput())
}

/// The single-row tables, one per workload and pool setting, in Markdown.
pub fn single_tables(cells: &[Cell], duration: Duration) -> String {
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
        let _ = writeln!(
            out,
            "Median of {} interleaved rounds of {:.2} s each.\n",
            group[0].rounds.len(),
            duration.as_secs_f64()
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

/// One bulk cell: insert and update times per round, and the counting pass.
pub struct BulkCell {
    pub rows: usize,
    pub strategy: bulk::Strategy,
    pub insert: Vec<Duration>,
    pub update: Vec<Duration>,
    pub counted: Option<Counted>,
}

impl BulkCell {
    fn insert_ms(&self) -> f64 {
        median(self.insert.iter().map(|d| d.as_secs_f64() * 1e3))
    }
    fn update_ms(&self) -> f64 {
        median(self.update.iter().map(|d| d.as_secs_f64() * 1e3))
    }
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

const COLORS: [RGBColor; 5] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x1f, 0x77, 0xb4),
];

/// The chart's note over a counter or version bar: lost increments, or keys left below
/// the newest version sent.
fn chart_note(cell: &Cell) -> Option<String> {
    match cell.kind {
        Kind::Counter => cell.lost_increments().map(|(all, lost)| {
            if lost == 0 {
                "0 lost".to_owned()
            } else {
                format!("{:.0}% lost", 100.0 * signed_rate(lost, all))
            }
        }),
        Kind::Version => cell
            .stale_overwrites()
            .map(|(keys, below, _)| format!("{below}/{keys} stale")),
        _ => None,
    }
}

/// Counter and version: what `strategy` did to the data, over its throughput bars.
fn chart_notes(
    cells: &[Cell],
    groups: &[String],
    per_group: i32,
    strategy: Strategy,
) -> Vec<Text<'static, (i32, f64), String>> {
    let style =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let slot = Strategy::ALL
        .iter()
        .position(|s| *s == strategy)
        .and_then(|s| i32::try_from(s).ok())
        .unwrap_or(0);
    cells
        .iter()
        .filter(|c| c.strategy == strategy && c.kind.checked())
        .filter_map(|c| {
            let g = groups.iter().position(|n| *n == group_short(c))?;
            let x = (i32::try_from(g).ok()? * per_group + slot) * 10 + 5;
            Some(Text::new(
                chart_note(c)?,
                (x, c.throughput() * 1.01),
                style.clone(),
            ))
        })
        .collect()
}

/// A figure of a cell, for the chart.
type Metric = fn(&Cell) -> f64;

/// Grouped bars: throughput on top, p99 below; one group per workload and pool setting.
pub fn chart(cells: &[Cell], path: &Path, title: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut groups: Vec<String> = Vec::new();
    for cell in cells {
        let name = group_short(cell);
        if !groups.contains(&name) {
            groups.push(name);
        }
    }
    // Integer x coordinates in tenths of a bar slot; a group is one slot per strategy
    // plus a gap.
    let per_group = i32::try_from(Strategy::ALL.len()).unwrap_or(5) + 1;
    let n_groups = i32::try_from(groups.len()).unwrap_or(0);
    let width = n_groups * per_group * 10 - 10;
    let centers: Vec<i32> = (0..n_groups)
        .map(|g| g * per_group * 10 + (per_group - 1) * 5)
        .collect();
    // About 160 px per group, so the group labels stay apart.
    let pixels = u32::try_from(groups.len())
        .unwrap_or(0)
        .saturating_mul(160)
        .max(1400);
    let root = SVGBackend::new(path, (pixels, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (top, bottom) = root.split_vertically(440);
    let panels: [(_, _, Metric); 2] = [
        (
            &top,
            "throughput, ops/s (median; higher is better)",
            Cell::throughput,
        ),
        (
            &bottom,
            "p99 latency, ms (median; lower is better)",
            |c: &Cell| c.p99_us() / 1e3,
        ),
    ];
    for (panel, (area, caption, value)) in panels.into_iter().enumerate() {
        let max = cells.iter().map(value).fold(0.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..width).with_key_points(centers.clone()),
                0.0..max.max(1e-9),
            )?;
        let names = groups.clone();
        let centers_for_labels = centers.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_label_formatter(&|y| {
                if *y >= 100.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.1}")
                }
            })
            .x_label_formatter(&move |x| {
                centers_for_labels
                    .iter()
                    .position(|c| c == x)
                    .map_or_else(String::new, |g| names[g].clone())
            })
            .draw()?;
        for (s, strategy) in Strategy::ALL.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            let slot = i32::try_from(s).unwrap_or(0);
            let bars: Vec<Rectangle<(i32, f64)>> = cells
                .iter()
                .filter(|c| c.strategy == *strategy)
                .filter_map(|c| {
                    let g = groups.iter().position(|n| *n == group_short(c))?;
                    let x = (i32::try_from(g).ok()? * per_group + slot) * 10;
                    Some(Rectangle::new(
                        [(x + 1, 0.0), (x + 9, value(c))],
                        color.filled(),
                    ))
                })
                .collect();
            let series = chart.draw_series(bars)?;
            if panel == 0 {
                series.label(strategy.label()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
                chart.draw_series(chart_notes(cells, &groups, per_group, *strategy))?;
            }
        }
        if panel == 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
    }
    root.present()?;
    Ok(())
}
