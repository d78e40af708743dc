//! The audit's output: for people (grouped by file, with the code, coloured on a terminal),
//! for machines (JSON), and for CI annotations (SARIF 2.1.0); and the suggested derive.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use atomic_upsert::schema::Snapshot;

use super::ops::camel;
use super::{ALLOW, Api, Coverage, Finding, Intent};

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
            let via = |helper: &Option<String>| {
                helper
                    .as_ref()
                    .map(|h| format!(" (through `{h}`)"))
                    .unwrap_or_default()
            };
            let _ = writeln!(
                out,
                "  {} in `{}`: reads {} at line {}{}, then inserts on a branch at line {}{}; two callers can both see no row and both insert",
                paint("1;33", "race"),
                f.function,
                if f.keys.is_empty() {
                    format!("`{}`", f.table)
                } else {
                    format!("`{}` by ({})", f.table, f.keys.join(", "))
                },
                f.read_line,
                via(&f.read_via),
                f.write_line,
                via(&f.write_via),
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
                "  {} {}",
                paint("1;32", "replace both with one atomic statement"),
                paint("1;32", intent_text(f.intent)),
            );
            for line in f.suggestion.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "    {line}");
                }
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

/// What the code does when the row exists, and so which statement keeps its meaning.
fn intent_text(intent: Intent) -> &'static str {
    match intent {
        Intent::Update => "(the code updates an existing row: an upsert):",
        Intent::Reject => {
            "(the code refuses an existing row: insert or ignore, and refuse when nothing was inserted; an upsert would overwrite the row):"
        }
        Intent::Ignore => "(the code leaves an existing row alone: insert or ignore):",
        Intent::Get => "(the code uses the row it finds: insert or get):",
    }
}

/// The coverage line of every run: what the audit could see.
pub fn coverage(coverage: &Coverage, skipped: usize) -> String {
    let per = |counts: &[usize; 3]| {
        format!(
            "{} (sqlx {}, Diesel {}, SeaORM {})",
            counts.iter().sum::<usize>(),
            counts[0],
            counts[1],
            counts[2]
        )
    };
    let mut line = format!(
        "audited {} files ({} test files left out, {} unparsable skipped): {} functions with database code, reads {}, inserts {}",
        coverage.files,
        coverage.test_files,
        skipped,
        coverage.functions,
        per(&coverage.reads),
        per(&coverage.inserts),
    );
    if coverage.undeclared_files > 0 {
        let _ = write!(
            line,
            "; {} files no module declares left out (the compiler never builds them)",
            coverage.undeclared_files
        );
    }
    if coverage.safe_by_context > 0 {
        let _ = write!(
            line,
            "; {} read-then-insert sites held back as protected by their function (a lock, a serializable transaction, a handled unique violation) or run once (a constructor, main, a CLI, migrations)",
            coverage.safe_by_context
        );
    }
    if coverage.reads.iter().sum::<usize>() == 0 && coverage.inserts.iter().sum::<usize>() == 0 {
        line.push_str("\nwarning: no database code recognised here, so a clean result says nothing about this code");
    }
    line
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
                        "`{}` reads `{}` (line {}{}) and then inserts into it on a branch{}: two callers can both see no row and both insert. Replace both with one atomic statement {}\n{}",
                        f.function,
                        f.table,
                        f.read_line,
                        f.read_via.as_ref().map(|h| format!(", through `{h}`")).unwrap_or_default(),
                        f.write_via.as_ref().map(|h| format!(" (through `{h}`)")).unwrap_or_default(),
                        intent_text(f.intent),
                        f.suggestion
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

/// What a fix is built from.
pub struct Site<'a> {
    pub table: &'a str,
    pub keys: &'a [String],
    pub columns: &'a [String],
    pub api: Api,
    pub intent: Intent,
    pub snapshot: Option<&'a Snapshot>,
}

/// The statement that replaces a finding's read and insert and keeps the code's intent, in
/// the codebase's own library: the derive and its call for sqlx, Diesel's and `SeaORM`'s
/// own `ON CONFLICT` forms for theirs. Column types come from the schema snapshot when it
/// has the table, else they are left for the reader.
pub fn suggestion(site: &Site) -> String {
    match site.api {
        Api::Sqlx => derive_suggestion(site),
        Api::Diesel => diesel_suggestion(site),
        Api::SeaOrm => seaorm_suggestion(site),
    }
}

/// The key columns of a site, or a placeholder when its read showed none.
fn key_columns(site: &Site) -> Vec<String> {
    if site.keys.is_empty() {
        vec![
            site.columns
                .first()
                .cloned()
                .unwrap_or_else(|| "id".to_owned()),
        ]
    } else {
        site.keys.to_vec()
    }
}

/// What every fix that refuses an existing row returns (the user's own error in place).
const REFUSE: &str = "return Err(/* your \"already exists\" error */ \"already exists\".into());";

/// An ORM's fix for `intent`, from its statements: `upsert` (insert, on conflict update),
/// `insert_or_nothing` (insert, on conflict nothing: it answers the rows inserted),
/// `before` (what to keep before the insert moves the row, for the fetch) and `fetch` (a
/// `let row` of the row by its key). Every form compiles as printed once the names the
/// fix's comment lists are the user's (`tests/fixes.rs` compiles them against the ORMs).
fn orm_fix(
    intent: Intent,
    upsert: &str,
    insert_or_nothing: &str,
    before: &str,
    fetch: &str,
) -> String {
    match intent {
        Intent::Update => format!("{upsert};"),
        Intent::Reject => {
            format!("let inserted = {insert_or_nothing};\nif inserted == 0 {{\n    {REFUSE}\n}}")
        }
        Intent::Ignore => format!("{insert_or_nothing}; // 0 rows when it exists, left as it is"),
        Intent::Get => {
            format!("{before}{insert_or_nothing};\n// the row, whoever inserted it\n{fetch}")
        }
    }
}

fn diesel_suggestion(site: &Site) -> String {
    let t = site.table;
    let keys = key_columns(site);
    let columns: Vec<String> = keys.iter().map(|k| format!("{t}::{k}")).collect();
    let target = if columns.len() == 1 {
        columns[0].clone()
    } else {
        format!("({})", columns.join(", "))
    };
    let insert = format!("diesel::insert_into({t}::table)\n    .values(&new_row)");
    let row = camel(t);
    let mut filters = String::new();
    for k in &keys {
        let _ = write!(filters, "\n    .filter({t}::{k}.eq(&new_row.{k}))");
    }
    let also = match site.intent {
        Intent::Update => ", also an AsChangeset",
        Intent::Get => &format!("; `{row}`: your Queryable row of {t}"),
        _ => "",
    };
    format!(
        "use diesel::prelude::*;\n\n\
         // instead of the read and the insert (`new_row`: your Insertable for {t}{also}):\n{}",
        orm_fix(
            site.intent,
            &format!(
                "{insert}\n    .on_conflict({target})\n    .do_update()\n    .set(&new_row)\n    .execute(conn)?"
            ),
            &format!(
                "{insert}\n    .on_conflict({target})\n    .do_nothing()\n    .execute(conn)?"
            ),
            "",
            &format!("let row: {row} = {t}::table{filters}\n    .first(conn)?;"),
        )
    )
}

fn seaorm_suggestion(site: &Site) -> String {
    let t = site.table;
    let keys = key_columns(site);
    let columns: Vec<String> = keys
        .iter()
        .map(|k| format!("{t}::Column::{}", camel(k)))
        .collect();
    let target = if columns.len() == 1 {
        format!("OnConflict::column({})", columns[0])
    } else {
        format!("OnConflict::columns([{}])", columns.join(", "))
    };
    let head = format!("{t}::Entity::insert(model)");
    // Every column but the key and the primary key is refreshed from the new row.
    let mut kept = columns.clone();
    if !keys.iter().any(|k| k == "id") {
        kept.push(format!("{t}::Column::Id"));
    }
    let refreshed = format!(
        "{t}::Column::iter().filter(|c| !matches!(c, {}))",
        kept.join(" | ")
    );
    let (mut before, mut filters) = (String::new(), String::new());
    for (k, c) in keys.iter().zip(&columns) {
        let _ = writeln!(
            before,
            "let {k} = model.{k}.clone().unwrap(); // the key, before `model` moves"
        );
        let _ = write!(filters, "\n    .filter({c}.eq({k}))");
    }
    let imports = match site.intent {
        Intent::Update => "use sea_orm::{EntityTrait, Iterable, sea_query::OnConflict};",
        Intent::Get => {
            "use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};"
        }
        Intent::Reject | Intent::Ignore => "use sea_orm::{EntityTrait, sea_query::OnConflict};",
    };
    format!(
        "{imports}\n\n// instead of the read and the insert (`model`: your {t}::ActiveModel):\n{}",
        orm_fix(
            site.intent,
            &format!(
                "{head}\n    .on_conflict(\n        {target}\n            .update_columns({refreshed})\n            .to_owned(),\n    )\n    .exec(db)\n    .await?"
            ),
            &format!(
                "{head}\n    .on_conflict({target}.do_nothing().to_owned())\n    .exec_without_returning(db)\n    .await?"
            ),
            &before,
            &format!("let row = {t}::Entity::find(){filters}\n    .one(db)\n    .await?;"),
        )
    )
}

fn derive_suggestion(site: &Site) -> String {
    let Site {
        table,
        keys,
        columns,
        api,
        intent,
        snapshot,
    } = *site;
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
    // `auth.users` -> `Users`.
    let name = camel(table.rsplit('.').next().unwrap_or(table).trim_matches('"'));
    let mut out = String::new();
    if intent == Intent::Reject {
        let _ = writeln!(out, "use atomic_upsert::{{AtomicUpsert, UpsertOutcome}};\n");
    } else {
        let _ = writeln!(out, "use atomic_upsert::AtomicUpsert;\n");
    }
    let _ = writeln!(out, "#[derive(AtomicUpsert)]");
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
    let call = match intent {
        Intent::Update => {
            "new_row.upsert(&pool).await?; // Inserted or Updated, never a duplicate key".to_owned()
        }
        Intent::Reject => format!("if new_row.insert_or_ignore(&pool).await? == UpsertOutcome::Skipped {{\n    {REFUSE}\n}}"),
        Intent::Ignore => "new_row.insert_or_ignore(&pool).await?; // Inserted, or Skipped: the row was there and stays as it is".to_owned(),
        Intent::Get => "let (row, how) = new_row.insert_or_get(&pool).await?; // the stored row; Obtained::Inserted or Existing".to_owned(),
    };
    let _ = write!(
        out,
        "// instead of the read and the insert (`new_row`: your {name} values):\n{call}"
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
