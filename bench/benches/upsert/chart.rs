//! The SVG chart (`bench.svg`, plotters): grouped bars of throughput and p99 latency per
//! workload and pool setting, with the counter and version workloads' data checks as notes.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::fixtures::Kind;
use crate::statistics::{Cell, signed_rate};
use crate::strategies::Strategy;

/// A short group name for the chart.
fn group_short(cell: &Cell) -> String {
    format!(
        "{} {}w, {}",
        cell.kind.key(),
        cell.workers,
        cell.mode.short()
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
