//! The fixes the audit prints compile as printed, against the real crates: the derive and
//! its call for sqlx code, Diesel's and `SeaORM`'s own `ON CONFLICT` forms for theirs.
//!
//! Every positive fixture is audited; each finding's fix goes into a module of its own with
//! what the fix's comment asks the user for (the table as the ORM declares it, `new_row` or
//! `model`, the connection), and `cargo check` builds them in `tests/fixes`, a crate with
//! Diesel 2 and `SeaORM` 2 (a workspace of its own, so that the main build never pulls them).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// A finding's fix as the JSON report gives it.
struct Fix {
    fixture: String,
    api: String,
    intent: String,
    table: String,
    keys: Vec<String>,
    suggestion: String,
}

fn fixes() -> Vec<Fix> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let output = Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
            .args(["audit", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        for f in found.as_array().unwrap() {
            let text = |key: &str| f[key].as_str().unwrap().to_owned();
            out.push(Fix {
                fixture: file.file_name().unwrap().to_string_lossy().into_owned(),
                api: text("api"),
                intent: text("intent"),
                table: text("table"),
                keys: f["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect(),
                suggestion: text("suggestion"),
            });
        }
    }
    out
}

/// The fix's items (its `use` lines, the derive's struct) and its statements (after the
/// "instead of the read and the insert" comment).
fn split(suggestion: &str) -> (&str, &str) {
    let at = suggestion
        .find("// instead of the read and the insert")
        .expect("every fix says what it replaces");
    suggestion.split_at(at)
}

/// The key columns the fix uses: the read's, else the placeholder `id` it prints.
fn key_columns(fix: &Fix) -> Vec<String> {
    if fix.keys.is_empty() {
        vec!["id".to_owned()]
    } else {
        fix.keys.clone()
    }
}

fn camel(name: &str) -> String {
    name.split('_')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// One module per fix, with what it asks the user for.
fn module(n: usize, fix: &Fix) -> String {
    let (items, statements) = split(&fix.suggestion);
    let t = &fix.table;
    let keys = key_columns(fix);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "/// {} ({}, {})\npub mod fix_{n} {{",
        fix.fixture, fix.api, fix.intent
    );
    match fix.api.as_str() {
        "sqlx" => {
            let name = split_struct_name(items);
            let _ = writeln!(
                m,
                "{items}\nasync fn apply(pool: atomic_upsert::sqlx::PgPool, new_row: {name}) -> Result<(), Box<dyn std::error::Error>> {{\n{statements}\nOk(())\n}}"
            );
        }
        "diesel" => {
            let mut columns = String::from("row_id -> Int8,");
            let mut fields = String::new();
            for k in &keys {
                let _ = write!(columns, " {k} -> Text,");
                let _ = write!(fields, " pub {k}: String,");
            }
            let _ = writeln!(
                m,
                "diesel::table! {{ {t} (row_id) {{ {columns} payload -> Text, }} }}\n\
                 #[derive(diesel::Insertable, diesel::AsChangeset)]\n\
                 #[diesel(table_name = {t})]\n\
                 pub struct NewRow {{{fields} pub payload: String }}\n\
                 #[derive(diesel::Queryable)]\n\
                 pub struct {row} {{ pub row_id: i64,{fields} pub payload: String }}\n\
                 {items}\n\
                 fn apply(conn: &mut diesel::PgConnection, new_row: NewRow) -> Result<(), Box<dyn std::error::Error>> {{\n{statements}\nOk(())\n}}",
                row = camel(t),
            );
        }
        "seaorm" => {
            let mut fields = String::new();
            for k in keys.iter().filter(|k| *k != "id") {
                let _ = write!(fields, " pub {k}: String,");
            }
            let _ = writeln!(
                m,
                "pub mod {t} {{\n\
                 use sea_orm::entity::prelude::*;\n\
                 #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]\n\
                 #[sea_orm(table_name = \"{t}\")]\n\
                 pub struct Model {{ #[sea_orm(primary_key)] pub id: i64,{fields} pub payload: String }}\n\
                 #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]\n\
                 pub enum Relation {{}}\n\
                 impl ActiveModelBehavior for ActiveModel {{}}\n\
                 }}\n\
                 {items}\n\
                 async fn apply(db: &sea_orm::DatabaseConnection, model: {t}::ActiveModel) -> Result<(), Box<dyn std::error::Error>> {{\n{statements}\nOk(())\n}}"
            );
        }
        other => panic!("unknown api {other}"),
    }
    m.push_str("}\n");
    m
}

/// The derive's struct name in a sqlx fix's items.
fn split_struct_name(items: &str) -> &str {
    let after = items.split("struct ").nth(1).expect("the derive's struct");
    after.split_whitespace().next().unwrap()
}

#[test]
fn printed_fixes_compile_against_the_real_crates() {
    let fixes = fixes();
    // Every library and every intent is printed at least once.
    for api in ["sqlx", "diesel", "seaorm"] {
        let intents: std::collections::BTreeSet<&str> = fixes
            .iter()
            .filter(|f| f.api == api)
            .map(|f| f.intent.as_str())
            .collect();
        assert_eq!(
            intents.into_iter().collect::<Vec<_>>(),
            ["get", "ignore", "reject", "update"],
            "the fixtures print every intent's fix for {api}"
        );
    }
    let mut generated = String::new();
    for (n, fix) in fixes.iter().enumerate() {
        generated.push_str(&module(n, fix));
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = target.join("audit-fixes.rs");
    std::fs::write(&file, &generated).unwrap();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixes");
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixes");
    let output = Command::new(env!("CARGO"))
        .args(["check", "--locked", "--quiet", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("AUDIT_FIXES", &file)
        // The generated code is ours; warnings in it are not the fix's (unused rows).
        .env("RUSTFLAGS", "-D warnings -A unused")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} fixes ({}) do not compile:\n{}",
        fixes.len(),
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
