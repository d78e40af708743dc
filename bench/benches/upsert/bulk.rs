//! Bulk upserts (formerly `benches/bulk.rs`): seven ways to write N three-column rows.
//!
//! Each cell is one insert of N new keys (after a `TRUNCATE`) and one update of the same
//! N keys with new values, timed separately.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use atomic_upsert::sqlx::{self, PgPool};
use atomic_upsert::{AtomicUpsert, BulkPath};

#[derive(AtomicUpsert, Clone)]
pub struct Row {
    #[conflict_key]
    id: i64,
    name: String,
    qty: i32,
}

pub const CREATE_TABLE: &str =
    "CREATE TABLE row (id int8 PRIMARY KEY, name text NOT NULL, qty int4 NOT NULL)";

const HAND_UPSERT_FROM_STAGE: &str = "INSERT INTO row (id, name, qty) SELECT id, name, qty FROM stage \
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Strategy {
    RowByRow,
    MultiValues,
    HandUnnest,
    HandCopy,
    OursUnnest,
    OursCopy,
    OursAuto,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::RowByRow,
        Strategy::MultiValues,
        Strategy::HandUnnest,
        Strategy::HandCopy,
        Strategy::OursUnnest,
        Strategy::OursCopy,
        Strategy::OursAuto,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Strategy::RowByRow => "row-by-row upsert (one transaction)",
            Strategy::MultiValues => "multi-row VALUES (hand-built)",
            Strategy::HandUnnest => "hand-written UNNEST",
            Strategy::HandCopy => "hand-written COPY + INSERT..SELECT",
            Strategy::OursUnnest => "upsert_many (UNNEST path)",
            Strategy::OursCopy => "upsert_many (COPY path)",
            Strategy::OursAuto => "upsert_many (Auto)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Strategy::RowByRow => "row_by_row",
            Strategy::MultiValues => "multi_values",
            Strategy::HandUnnest => "hand_unnest",
            Strategy::HandCopy => "hand_copy",
            Strategy::OursUnnest => "upsert_many_unnest",
            Strategy::OursCopy => "upsert_many_copy",
            Strategy::OursAuto => "upsert_many_auto",
        }
    }
}

/// Writes `rows` with `strategy`.
pub async fn run(
    pool: &PgPool,
    strategy: Strategy,
    rows: &[Row],
) -> Result<(), Box<dyn std::error::Error>> {
    match strategy {
        Strategy::RowByRow => {
            let mut tx = pool.begin().await?;
            for row in rows {
                row.upsert(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Strategy::MultiValues => {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(65_535 / 3) {
                let mut sql = String::from("INSERT INTO row (id, name, qty) VALUES ");
                for i in 0..chunk.len() {
                    let _ = write!(
                        sql,
                        "{}(${}, ${}, ${})",
                        if i > 0 { "," } else { "" },
                        3 * i + 1,
                        3 * i + 2,
                        3 * i + 3
                    );
                }
                sql.push_str(
                    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty",
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    query = query.bind(row.id).bind(&row.name).bind(row.qty);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Strategy::HandUnnest => {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            let qtys: Vec<i32> = rows.iter().map(|r| r.qty).collect();
            sqlx::query(
                "INSERT INTO row (id, name, qty) SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int4[]) \
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty",
            )
            .bind(ids)
            .bind(names)
            .bind(qtys)
            .execute(pool)
            .await?;
        }
        Strategy::HandCopy => {
            let mut tx = pool.begin().await?;
            sqlx::raw_sql("CREATE TEMP TABLE stage (id int8, name text, qty int4) ON COMMIT DROP")
                .execute(&mut *tx)
                .await?;
            let mut copy = tx
                .copy_in_raw("COPY stage (id, name, qty) FROM STDIN")
                .await?;
            let mut text = String::with_capacity(1 << 20);
            for row in rows {
                // Names in this benchmark need no escaping.
                let _ = writeln!(text, "{}\t{}\t{}", row.id, row.name, row.qty);
                if text.len() >= 1 << 20 {
                    copy.send(std::mem::take(&mut text).into_bytes()).await?;
                }
            }
            copy.send(text.into_bytes()).await?;
            copy.finish().await?;
            sqlx::raw_sql(HAND_UPSERT_FROM_STAGE)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Strategy::OursUnnest => drop(Row::upsert_many_via(pool, rows, BulkPath::Unnest).await?),
        Strategy::OursCopy => drop(Row::upsert_many_via(pool, rows, BulkPath::Copy).await?),
        Strategy::OursAuto => drop(Row::upsert_many(pool, rows).await?),
    }
    Ok(())
}

/// `n` rows with keys `0..n`; `version` changes every non-key value.
pub fn rows(n: usize, version: i32) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: i64::try_from(i).unwrap_or(i64::MAX),
            name: format!("name-{i}-{version}"),
            qty: version,
        })
        .collect()
}

/// One round of one cell: `TRUNCATE`, insert `fresh` (timed), update with `update` (timed).
pub async fn run_cell(
    pool: &PgPool,
    strategy: Strategy,
    fresh: &[Row],
    update: &[Row],
) -> Result<(Duration, Duration), Box<dyn std::error::Error>> {
    sqlx::raw_sql("TRUNCATE row").execute(pool).await?;
    let started = Instant::now();
    run(pool, strategy, fresh).await?;
    let insert = started.elapsed();
    let started = Instant::now();
    run(pool, strategy, update).await?;
    Ok((insert, started.elapsed()))
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// KiB to MiB, for display (process sizes are far below 2^52 KiB).
#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `--memory`: 1,000,000 rows through `upsert_many` (Auto, so the COPY path), with the
/// process's resident memory read from `/proc/self/status`. Returns a Markdown section.
pub async fn memory_check(pool: &PgPool) -> Result<String, Box<dyn std::error::Error>> {
    sqlx::raw_sql("TRUNCATE row").execute(pool).await?;
    let before_input = status_kib("VmRSS:");
    let input = rows(1_000_000, 1);
    let with_input = status_kib("VmRSS:");
    let started = Instant::now();
    let outcome = Row::upsert_many(pool, &input).await?;
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Memory: 1,000,000 three-column rows through upsert_many (Auto = COPY path)\n"
    );
    let _ = writeln!(
        out,
        "| input (RSS growth while building it) | peak RSS above input | time | outcome |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    let _ = writeln!(
        out,
        "| {:.1} MiB | {:.1} MiB | {:.2} s | {} inserted |",
        mib(with_input - before_input),
        mib(peak.saturating_sub(with_input)),
        elapsed.as_secs_f64(),
        outcome.inserted
    );
    Ok(out)
}
