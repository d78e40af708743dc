//! The audit's output: for people (grouped by file, with the code, coloured on a terminal),
//! for machines (JSON), and for CI annotations (SARIF 2.1.0); and the suggested derive.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use atomic_upsert::schema::Snapshot;

use super::{ALLOW, Api, Finding};

/// How to print findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: grouped by file, with the code and the replacement.
    Text,
    /// One JSON array of findings.
    Json,
    /// SARIF 2.1.0, for code-scanning annotations on pull requests.
    Sarif,
}

/// The rule's id in SARIF.
const RULE: &str = "atomic-upsert/read-then-insert";

/// The findings in `format`; `color` for terminals (text only).
pub fn render(findings: &[Finding], format: Format, color: bool) -> String {
    match format {
        Format::Text => text(findings, color),
        Format::Json => serde_json::to_string_pretty(findings).unwrap_or_default(),
        Format::Sarif => serde_json::to_string_pretty(&sarif(findings)).unwrap_or_default(),
    }
}

fn text(findings: &[Finding], color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("no read-then-insert race found\n");
        return out;
    }
    let mut by_file: BTreeMap<&PathBuf, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_file.entry(&finding.file).or_default().push(finding);
    }
    for (file, found) in by_file {
        let source = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = source.lines().collect();
        let _ = writeln!(out, "{}", paint("1", &file.display().to_string()));
        for f in found {
            let _ = writeln!(
                out,
                "  {} in `{}`: reads {} at line {}, then inserts on a branch at line {}; two callers can both see no row and both insert",
                paint("1;33", "race"),
                f.function,
                if f.keys.is_empty() {
                    format!("`{}`", f.table)
                } else {
                    format!("`{}` by ({})", f.table, f.keys.join(", "))
                },
                f.read_line,
                f.write_line
            );
            for line in [f.read_line, f.write_line] {
                if let Some(code) = lines.get(line.saturating_sub(1)) {
                    let _ = writeln!(
                        out,
                        "    {} | {}",
                        paint("2", &format!("{line:>5}")),
                        code.trim_end()
                    );
                }
            }
            let _ = writeln!(
                out,
                "  {}",
                paint("1;32", "replace both with one atomic statement:")
            );
            for line in f.suggestion.lines() {
                let _ = writeln!(out, "    {line}");
            }
            let _ = writeln!(
                out,
                "  {}\n",
                paint(
                    "2",
                    &format!("(reviewed and safe? add `// {ALLOW}` on either line)")
                )
            );
        }
    }
    let _ = writeln!(
        out,
        "{} race{} found",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    out
}

fn sarif(findings: &[Finding]) -> serde_json::Value {
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let uri = relative_uri(&f.file);
            serde_json::json!({
                "ruleId": RULE,
                "level": "warning",
                "message": {
                    "text": format!(
                        "`{}` reads `{}` (line {}) and then inserts into it on a branch: two callers can both see no row and both insert. Replace both with one atomic statement:\n{}",
                        f.function, f.table, f.read_line, f.suggestion
                    )
                },
                "ruleIndex": 0,
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.write_line }
                    }
                }],
                "relatedLocations": [{
                    "id": 1,
                    "message": { "text": "the read that decides the insert" },
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.read_line }
                    }
                }]
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "atomic-upsert audit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/atomic-upsert/atomic-upsert",
                    "rules": [{
                        "id": RULE,
                        "shortDescription": { "text": "A read decides an insert into the same table: a race" },
                        "fullDescription": { "text": "A function reads a row and, when it finds none, inserts it. Between the read and the insert another caller can insert the same key, and one of the two fails with a duplicate-key error (or both rows land without a unique index). One INSERT .. ON CONFLICT statement, such as #[derive(AtomicUpsert)] generates, has no such window." },
                        "help": { "text": "Replace the read and the insert with #[derive(AtomicUpsert)] and .upsert(..), or add `// atomic-upsert: allow` on either line when the code is safe (for example under a lock)." }
                    }]
                }
            },
            "results": results
        }]
    })
}

/// A file's path as a SARIF URI relative to the current directory (run the audit from the
/// repository's root, as CI does): forward slashes, no `./`, spaces and `%` escaped.
fn relative_uri(file: &std::path::Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            file.strip_prefix(&cwd)
                .ok()
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or_else(|| file.to_path_buf());
    let text = relative.display().to_string().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    text.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
}

/// The derive and call that replace a finding's read and insert. Column types come from
/// the schema snapshot when it has the table, else they are left for the reader.
pub fn suggestion(
    table: &str,
    keys: &[String],
    columns: &[String],
    api: Api,
    snapshot: Option<&Snapshot>,
) -> String {
    let info = snapshot.and_then(|s| s.resolve(None, table));
    let mut fields: Vec<(String, bool)> = keys.iter().map(|k| (k.clone(), true)).collect();
    for column in columns {
        if !fields.iter().any(|(f, _)| f == column) {
            fields.push((column.clone(), false));
        }
    }
    if fields.is_empty() {
        fields.push(("/* key column */ id".to_owned(), true));
    }
    if !fields.iter().any(|(_, key)| *key) {
        // The WHERE was not readable: the first insert column is the likeliest key.
        fields[0].1 = true;
    }
    let type_of = |column: &str| {
        info.and_then(|t| t.column(column)).map_or_else(
            || "/* type */ String".to_owned(),
            |c| rust_type(&c.base_type, c.not_null),
        )
    };
    let name = camel(table);
    let mut out = String::new();
    let _ = writeln!(out, "#[derive(atomic_upsert::AtomicUpsert)]");
    let _ = writeln!(out, "#[upsert(table = \"{table}\")]");
    let _ = writeln!(out, "struct {name} {{");
    for (field, key) in &fields {
        if *key {
            let _ = writeln!(out, "    #[conflict_key]");
        }
        let _ = writeln!(out, "    {field}: {},", type_of(field));
    }
    if columns.is_empty() && api != Api::Sqlx {
        let _ = writeln!(out, "    // .. the columns your insert writes");
    }
    let _ = writeln!(out, "}}");
    let _ = write!(
        out,
        "// instead of the read and the insert:\n{name} {{ .. }}.upsert(&pool).await?; // Inserted or Updated, never a duplicate key"
    );
    out
}

/// A Rust type for a PostgreSQL base type.
fn rust_type(base: &str, not_null: bool) -> String {
    let ty = match base {
        "int2" => "i16",
        "int4" => "i32",
        "int8" => "i64",
        "float4" => "f32",
        "float8" => "f64",
        "bool" => "bool",
        "text" | "varchar" | "bpchar" | "citext" | "name" => "String",
        "bytea" => "Vec<u8>",
        "json" | "jsonb" => "atomic_upsert::sqlx::types::Json<serde_json::Value>",
        "uuid" => "uuid::Uuid",
        "timestamptz" => "chrono::DateTime<chrono::Utc>",
        "timestamp" => "chrono::NaiveDateTime",
        "date" => "chrono::NaiveDate",
        "numeric" => "rust_decimal::Decimal",
        other => return format!("/* {other} */ String"),
    };
    if not_null {
        ty.to_owned()
    } else {
        format!("Option<{ty}>")
    }
}

/// `strava_stats` → `StravaStats`.
fn camel(table: &str) -> String {
    table
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
