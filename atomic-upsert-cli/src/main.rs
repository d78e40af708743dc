//! `atomic-upsert-cli audit [PATH]`: finds read-then-insert races (the seed's bug) in Rust
//! sources, sqlx, Diesel and `SeaORM`, and prints the derive that replaces each; see
//! [`audit`].
//!
//! `atomic-upsert-cli prepare`: writes the schema snapshot that `#[derive(AtomicUpsert)]`
//! checks every struct against at compile time (like sqlx's `.sqlx`), and
//! `prepare --check` tells CI when the committed snapshot no longer matches the database.
//!
//! ```text
//! DATABASE_URL=postgres://.. cargo run -p atomic-upsert-cli -- prepare             # writes ./atomic-upsert.schema
//! DATABASE_URL=postgres://.. cargo run -p atomic-upsert-cli -- prepare --check     # exit 1 when stale
//! ```
//!
//! The snapshot holds every table and view of the schemas on the connection's
//! `search_path` (or of `--schema`), with their columns, types, unique indexes and
//! constraints. Commit it at the root of the crate that derives `AtomicUpsert`.

mod audit;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr as _;

use atomic_upsert::schema::Snapshot;
use atomic_upsert::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use clap::{Parser, Subcommand};

/// Schema snapshots for atomic-upsert's build-time check.
#[derive(Parser, Debug)]
#[command(name = "atomic-upsert-cli", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Reads the live schema and writes the snapshot (or, with --check, compares).
    Prepare(Prepare),
    /// Finds functions that read a row and then insert it on a branch (the race that ends
    /// in "duplicate key value violates unique constraint"), and prints the derive that
    /// replaces each.
    Audit(Audit),
}

#[derive(Parser, Debug)]
struct Audit {
    /// A file or directory to audit (`target/` and hidden directories are skipped).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output: `text` for people, `json`, or `sarif` for code-scanning annotations.
    #[arg(long, value_enum, default_value = "text")]
    format: audit::Format,
    /// Exit 1 when anything is found (for CI).
    #[arg(long)]
    deny: bool,
    /// Leave out paths matching this glob, relative to PATH (`generated/**`,
    /// `**/migrations/*.rs`); repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Audit test code too: files under `tests/` and `benches/`, `#[cfg(test)]` modules,
    /// `#[test]` functions (left out by default: a test's setup races nothing).
    #[arg(long)]
    include_tests: bool,
    /// Exit 2 when a `.rs` file cannot be parsed (by default it is skipped with a warning,
    /// as a template or a script named `.rs` would be).
    #[arg(long)]
    strict: bool,
    /// The schema snapshot whose column types fill the suggested structs (default:
    /// `atomic-upsert.schema` in the current directory, when it exists).
    #[arg(long, value_name = "FILE")]
    schema_file: Option<PathBuf>,
}

#[derive(Parser, Debug)]
struct Prepare {
    /// The database to read.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Schemas to read, in lookup order (default: the connection's search path).
    #[arg(long = "schema", value_name = "SCHEMA")]
    schemas: Vec<String>,
    /// The snapshot file: commit it at the root of the crate that uses the derive.
    #[arg(long, default_value = "atomic-upsert.schema")]
    output: PathBuf,
    /// Do not write: exit 1 when the file differs from the live schema (for CI).
    #[arg(long)]
    check: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Cli::parse().command {
        Command::Prepare(args) => args,
        Command::Audit(args) => return run_audit(&args),
    };
    match prepare(&args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// `audit`: exit 0 when clean (or without `--deny`), 1 with findings under `--deny`, 2 when
/// the path is wrong, or under `--strict` when a file could not be read or parsed (the
/// others are still audited and reported; without `--strict` such a file is a warning).
fn run_audit(args: &Audit) -> ExitCode {
    let snapshot_path = args
        .schema_file
        .clone()
        .unwrap_or_else(|| PathBuf::from("atomic-upsert.schema"));
    let snapshot = match std::fs::read_to_string(&snapshot_path) {
        Ok(text) => match Snapshot::parse(&text) {
            Ok(snapshot) => Some(snapshot),
            Err(e) => {
                eprintln!("error: {}: {e}", snapshot_path.display());
                return ExitCode::from(2);
            }
        },
        Err(_) if args.schema_file.is_none() => None,
        Err(e) => {
            eprintln!("error: {}: {e}", snapshot_path.display());
            return ExitCode::from(2);
        }
    };
    let exclude = match exclude_set(&args.exclude) {
        Ok(set) => set,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let options = audit::Options {
        exclude,
        include_tests: args.include_tests,
    };
    match audit::audit(&args.path, snapshot.as_ref(), &options) {
        Ok(result) => {
            let color = args.format == audit::Format::Text && std::io::stdout().is_terminal();
            let mut out = audit::render(&result.findings, args.format, color)
                .trim_end()
                .to_owned();
            let coverage = audit::coverage(&result.coverage, result.skipped.len());
            if args.format == audit::Format::Text {
                out.push('\n');
                out.push_str(&coverage);
            }
            // A closed pipe (`| head`) ends the output, not the run: the exit code stands.
            let _ = writeln!(std::io::stdout().lock(), "{out}");
            let mut stderr = std::io::stderr().lock();
            if args.format != audit::Format::Text {
                let _ = writeln!(stderr, "{coverage}");
            }
            for why in &result.skipped {
                let _ = writeln!(stderr, "warning: skipped {why}");
            }
            if args.strict && !result.skipped.is_empty() {
                // The rest was audited; under --strict a file that could not be read is
                // not "clean".
                ExitCode::from(2)
            } else if args.deny && !result.findings.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The `--exclude` globs as one set (`*` stays within a path segment, `**` crosses them).
fn exclude_set(globs: &[String]) -> Result<Option<globset::GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = globset::GlobSetBuilder::new();
    for glob in globs {
        let glob = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("--exclude {glob}: {e}"))?;
        set.add(glob);
    }
    set.build().map(Some).map_err(|e| format!("--exclude: {e}"))
}

async fn prepare(args: &Prepare) -> Result<ExitCode, String> {
    let mut options = PgConnectOptions::from_str(&args.database_url)
        .map_err(|e| format!("bad --database-url: {e}"))?;
    if !args.schemas.is_empty() {
        let path = args
            .schemas
            .iter()
            .map(|s| format!("\"{}\"", s.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(", ");
        options = options.options([("search_path", path.as_str())]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let live = atomic_upsert::schema::snapshot(&pool)
        .await
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    pool.close().await;
    let path = args.output.display();
    if !args.check {
        let first = !args.output.exists();
        std::fs::write(&args.output, live.to_text())
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        println!(
            "wrote {path}: {} tables from schemas {}",
            live.tables.len(),
            live.search_path.join(", ")
        );
        if first {
            // Cargo tracks the file once a build has read it; a crate built before it
            // existed has no reason to rebuild yet.
            println!(
                "first snapshot: `cargo clean -p <your crate>` (or touch a source file) so \
                 the next build checks against it"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = std::fs::read_to_string(&args.output).map_err(|e| {
        format!("no snapshot to check at {path} ({e}); write it with `atomic-upsert-cli prepare`")
    })?;
    let committed = Snapshot::parse(&text).map_err(|e| format!("{path} is not a snapshot: {e}"))?;
    let changes = differences(&committed, &live);
    if changes.is_empty() {
        println!("{path} matches the database");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{path} is stale; run `atomic-upsert-cli prepare` and commit it:");
    for change in changes {
        eprintln!("  {change}");
    }
    Ok(ExitCode::FAILURE)
}

/// What changed between the committed snapshot and the live one, a line each.
fn differences(committed: &Snapshot, live: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    if committed.search_path != live.search_path {
        out.push(format!(
            "search_path: {} → {}",
            committed.search_path.join(", "),
            live.search_path.join(", ")
        ));
    }
    for table in &live.tables {
        match committed
            .tables
            .iter()
            .find(|t| t.schema == table.schema && t.name == table.name)
        {
            None => out.push(format!("{}.{}: new", table.schema, table.name)),
            Some(old) if old != table => {
                for column in &table.columns {
                    match old.column(&column.name) {
                        None => out.push(format!(
                            "{}.{}.{}: new column",
                            table.schema, table.name, column.name
                        )),
                        Some(c) if c != column => out.push(format!(
                            "{}.{}.{}: changed ({} → {})",
                            table.schema, table.name, column.name, c.type_name, column.type_name
                        )),
                        Some(_) => {}
                    }
                }
                for column in &old.columns {
                    if table.column(&column.name).is_none() {
                        out.push(format!(
                            "{}.{}.{}: dropped",
                            table.schema, table.name, column.name
                        ));
                    }
                }
                if old.indexes != table.indexes
                    || old.kind != table.kind
                    || old.partition_key != table.partition_key
                {
                    out.push(format!(
                        "{}.{}: unique indexes or kind changed",
                        table.schema, table.name
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for table in &committed.tables {
        if !live
            .tables
            .iter()
            .any(|t| t.schema == table.schema && t.name == table.name)
        {
            out.push(format!("{}.{}: dropped", table.schema, table.name));
        }
    }
    out
}
