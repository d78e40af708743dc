//! Statistics: medians over rounds, ratios and rates, and the aggregation of each round's
//! [`Sample`] into a [`Round`] and of rounds into a [`Cell`] (and [`BulkCell`]).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bulk;
use crate::fixtures::Kind;
use crate::proxy::Counted;
use crate::runner::{Check, Mode, Sample};
use crate::strategies::Strategy;

/// `u64` to `f64` for display and ratios (counts here are far below 2^52).
#[allow(clippy::cast_precision_loss)]
pub fn f64_of(n: u64) -> f64 {
    n as f64
}

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
pub fn signed_rate(n: i64, of: u64) -> f64 {
    n as f64 / f64_of(of.max(1))
}

pub fn median(values: impl Iterator<Item = f64>) -> f64 {
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
    pub fn mean_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.mean_us))
    }
    pub fn p50_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.p50_us))
    }
    pub fn p99_us(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.p99_us))
    }
    pub fn range(&self) -> (f64, f64) {
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
    pub fn attempts(&self) -> u64 {
        self.rounds
            .iter()
            .map(|r| r.ok + r.errors.values().sum::<u64>())
            .sum()
    }
    pub fn error_count(&self) -> u64 {
        self.errors().values().sum()
    }
    pub fn ok(&self) -> u64 {
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
    pub fn per_op(&self) -> Option<(f64, f64, f64)> {
        let (counted, ops) = self.counted?;
        let ops = f64_of(ops.max(1));
        Some((
            f64_of(counted.statements) / ops,
            f64_of(counted.round_trips) / ops,
            f64_of(counted.pings) / ops,
        ))
    }
}

/// The cell of `strategy` in workload `kind` under pool setting `mode`.
pub fn find(cells: &[Cell], kind: Kind, mode: Mode, strategy: Strategy) -> Option<&Cell> {
    cells
        .iter()
        .find(|c| c.kind == kind && c.mode == mode && c.strategy == strategy)
}

/// `cell`'s throughput over that of `base` in the same workload and pool setting.
pub fn ratio(cells: &[Cell], cell: &Cell, base: Strategy) -> f64 {
    find(cells, cell.kind, cell.mode, base).map_or(f64::NAN, |b| cell.throughput() / b.throughput())
}

/// One round of a cell, from its sample.
pub fn round_of(sample: &Sample, check: Option<Check>) -> Round {
    let h = &sample.histogram;
    Round {
        throughput: f64_of(sample.ops) / sample.elapsed.as_secs_f64().max(1e-9),
        mean_us: h.mean() / 1e3,
        p50_us: f64_of(h.value_at_quantile(0.50)) / 1e3,
        p99_us: f64_of(h.value_at_quantile(0.99)) / 1e3,
        ok: sample.ops,
        skipped: sample.skipped,
        errors: sample.errors.clone(),
        check,
    }
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
    pub fn insert_ms(&self) -> f64 {
        median(self.insert.iter().map(|d| d.as_secs_f64() * 1e3))
    }
    pub fn update_ms(&self) -> f64 {
        median(self.update.iter().map(|d| d.as_secs_f64() * 1e3))
    }
}
