//! `atomic-upsert-cli audit` on fixtures of every pattern it knows, positive and negative:
//! precision and recall are printed and must both be 1. Also: the quick start's naive
//! functions are found (and only those), our own library sources report nothing, `--deny`
//! fails the run, and the JSON and SARIF outputs carry the findings.

use std::path::{Path, PathBuf};
use std::process::Command;

fn audit(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
        .arg("audit")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.code() != Some(2),
        "audit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn findings(path: &Path) -> Vec<serde_json::Value> {
    let (_, json) = audit(&["--format", "json", path.to_str().unwrap()]);
    serde_json::from_str::<Vec<serde_json::Value>>(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// The `// READ` and `// WRITE` lines of a positive fixture.
fn markers(path: &Path) -> (u64, u64) {
    let source = std::fs::read_to_string(path).unwrap();
    let line = |marker: &str| {
        source
            .lines()
            .position(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("{} has no {marker}", path.display())) as u64
            + 1
    };
    (line("// READ"), line("// WRITE"))
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/audit")
            .join(kind),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .collect();
    files.sort();
    files
}

#[test]
fn every_pattern_is_found_and_nothing_else() {
    let (mut expected, mut reported, mut correct) = (0_u32, 0_u32, 0_u32);
    let mut misses = Vec::new();
    for file in fixtures("positive") {
        expected += 1;
        let (read, write) = markers(&file);
        let found = findings(&file);
        reported += u32::try_from(found.len()).unwrap();
        let hit = found
            .iter()
            .any(|f| f["read_line"] == read && f["write_line"] == write);
        if hit {
            correct += 1;
        } else {
            misses.push(format!(
                "{}: expected {read}->{write}, got {found:?}",
                file.display()
            ));
        }
    }
    for file in fixtures("negative") {
        let found = findings(&file);
        reported += u32::try_from(found.len()).unwrap();
        if !found.is_empty() {
            misses.push(format!("{}: false positive {found:?}", file.display()));
        }
    }
    let precision = f64::from(correct) / f64::from(reported.max(1));
    let recall = f64::from(correct) / f64::from(expected);
    println!(
        "audit fixtures: precision {precision:.2} ({correct}/{reported}), recall {recall:.2} ({correct}/{expected})"
    );
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    assert_eq!((precision, recall), (1.0, 1.0));
}

#[test]
fn findings_carry_table_keys_and_the_derive() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive/sqlx_is_none.rs");
    let found = findings(&file);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["table"], "strava_stats");
    assert_eq!(found[0]["keys"], serde_json::json!(["stats_type"]));
    assert_eq!(found[0]["function"], "save_stats");
    let suggestion = found[0]["suggestion"].as_str().unwrap();
    assert!(
        suggestion.contains("#[upsert(table = \"strava_stats\")]"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("#[conflict_key]\n    stats_type:"),
        "{suggestion}"
    );
    assert!(suggestion.contains("    data: "), "{suggestion}");
    // The code leaves an existing row alone: insert or ignore, not an upsert.
    assert!(
        suggestion.contains(".insert_or_ignore(&pool)"),
        "{suggestion}"
    );
    assert_eq!(found[0]["intent"], "ignore");
}

#[test]
fn the_quickstart_naive_code_is_found_and_only_it() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let found = findings(&examples);
    let naive: Vec<_> = found
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap(),
                f["table"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        naive,
        [("naive_job", "strava_stats"), ("naive_job", "strava_auth")],
        "{found:?}"
    );
    let (code, text) = audit(&["--deny", examples.to_str().unwrap()]);
    assert_eq!(code, 1, "--deny fails the run when something is found");
    assert!(text.contains("2 races found"), "{text}");
    assert!(text.contains("struct StravaStats"), "{text}");
}

#[test]
fn our_own_library_sources_report_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in [
        "src",
        "upsert-core/src",
        "upsert-derive/src",
        "upsert-runtime/src",
        "atomic-upsert-cli/src",
    ] {
        let found = findings(&root.join(dir));
        assert!(found.is_empty(), "{dir}: {found:?}");
        let (code, _) = audit(&["--deny", root.join(dir).to_str().unwrap()]);
        assert_eq!(code, 0);
    }
}

#[test]
fn sarif_names_the_rule_and_both_locations() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive/diesel.rs");
    let (_, sarif) = audit(&["--format", "sarif", file.to_str().unwrap()]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["id"],
        "atomic-upsert/read-then-insert"
    );
    let result = &run["results"][0];
    let (read, write) = markers(&file);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        write
    );
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        read
    );
    assert!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("tests/audit/positive/diesel.rs")
    );
}

#[test]
fn a_schema_snapshot_types_the_suggested_fields() {
    let dir = std::env::temp_dir().join(format!("au-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot = dir.join("atomic-upsert.schema");
    std::fs::write(
        &snapshot,
        "# atomic-upsert schema snapshot, format 1. Written by `atomic-upsert-cli prepare`; commit it.\n\
         search_path\tapp\n\
         table\tapp\tstrava_auth\tr\n\
         column\tid\tinteger\tint4\t23\tN\tnot_null - - eq ord bytewise\t-\n\
         column\taccess_token\ttext\ttext\t25\tS\t- - - eq ord bytewise\t-\n\
         unique\tstrava_auth_pkey\tstrava_auth_pkey\t-\t-\tid\n",
    )
    .unwrap();
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive/sqlx_sql_in_branch.rs");
    let (_, json) = audit(&[
        "--format",
        "json",
        "--schema-file",
        snapshot.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let suggestion = found[0]["suggestion"].as_str().unwrap();
    assert!(
        suggestion.contains("#[conflict_key]\n    id: i32,"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("access_token: Option<String>,"),
        "{suggestion}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_does_not_parse_is_skipped_with_a_warning_and_fails_only_strict_runs() {
    let dir = std::env::temp_dir().join(format!("au-audit-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A shell script named `.rs`, as found in real repositories.
    std::fs::write(
        dir.join("install.rs"),
        "#!/bin/sh\necho \"$1\" | cut -d: -f1\n",
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/negative/parent_row_locker.rs"),
        dir.join("clean.rs"),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
            .args(["audit", "--format", "json"])
            .args(extra)
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = run(&["--deny"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning, not a failed --deny run"
    );
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        found.is_empty(),
        "the other files are still audited: {found:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: skipped") && stderr.contains("install.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains("1 unparsable skipped"), "{stderr}");
    assert_eq!(run(&["--deny", "--strict"]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--format json` findings of one positive fixture.
fn fixture(name: &str) -> Vec<serde_json::Value> {
    findings(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/audit/positive")
            .join(name),
    )
}

#[test]
fn the_fix_keeps_what_the_code_does_when_the_row_exists() {
    let intent = |name: &str| {
        let found = fixture(name);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        (
            found[0]["intent"].as_str().unwrap().to_owned(),
            found[0]["suggestion"].as_str().unwrap().to_owned(),
        )
    };
    let (update, fix) = intent("sqlx_match.rs");
    assert_eq!(update, "update");
    assert!(fix.contains(".upsert(&pool)"), "{fix}");
    assert!(fix.starts_with("use atomic_upsert::AtomicUpsert;"), "{fix}");
    // Sign-up refuses an existing account: an upsert would overwrite its password.
    let (reject, fix) = intent("sqlx_validation_helper.rs");
    assert_eq!(reject, "reject");
    assert!(
        fix.contains(".insert_or_ignore(&pool).await? == UpsertOutcome::Skipped")
            && fix.contains("use atomic_upsert::{AtomicUpsert, UpsertOutcome};")
            && !fix.contains(".upsert("),
        "{fix}"
    );
    let (ignore, fix) = intent("sqlx_is_none.rs");
    assert_eq!(ignore, "ignore");
    assert!(fix.contains(".insert_or_ignore(&pool)"), "{fix}");
    let (get, fix) = intent("sqlx_get_or_create.rs");
    assert_eq!(get, "get");
    assert!(fix.contains(".insert_or_get(&pool)"), "{fix}");
    // A check on the insert's own arm, and one after the insert, are not what the code does
    // when the row exists: it uses the row.
    let (get, _) = intent("sqlx_get_or_create_with_later_checks.rs");
    assert_eq!(get, "get");
    // In the codebase's own library.
    let (_, fix) = intent("diesel.rs");
    assert!(
        fix.contains(".on_conflict(users::email)\n    .do_nothing()"),
        "{fix}"
    );
    assert!(!fix.contains("derive"), "{fix}");
    let (update, fix) = intent("diesel_update_or_insert.rs");
    assert_eq!(update, "update");
    assert!(fix.contains(".do_update()\n    .set(&new_row)"), "{fix}");
    let (get, fix) = intent("seaorm_get_or_insert.rs");
    assert_eq!(get, "get");
    assert!(
        fix.contains("let name = model.name.clone().unwrap();")
            && fix.contains(".filter(tag::Column::Name.eq(name))"),
        "{fix}"
    );
    let (update, _) = intent("seaorm_update_or_insert.rs");
    assert_eq!(update, "update");
    // The row found is used on one branch, an ambiguous match errs on another: a get.
    let (get, fix) = intent("sqlx_found_used_or_ambiguous.rs");
    assert_eq!(get, "get");
    assert!(fix.contains(".insert_or_get(&pool)"), "{fix}");
    let (reject, fix) = intent("seaorm_active_model_variable.rs");
    assert_eq!(reject, "reject");
    assert!(
        fix.contains("OnConflict::column(group::Column::Name).do_nothing()")
            && fix.contains("if inserted == 0"),
        "{fix}"
    );
}

#[test]
fn findings_name_the_helpers_and_keys_in_source_order() {
    let found = fixture("sqlx_helpers.rs");
    assert_eq!(found[0]["read_via"], "find_by_email");
    assert_eq!(found[0]["write_via"], "create");
    let (_, text) = audit(&[Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/audit/positive/sqlx_helpers.rs")
        .to_str()
        .unwrap()]);
    assert!(text.contains("(through `find_by_email`)"), "{text}");
    let found = fixture("diesel_glob_import.rs");
    assert_eq!(found[0]["keys"], serde_json::json!(["user_id", "token"]));
}

#[test]
fn every_run_says_what_it_could_see() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive");
    let (_, text) = audit(&[dir.to_str().unwrap()]);
    let summary = text.lines().find(|l| l.starts_with("audited ")).unwrap();
    assert!(
        summary.contains("sqlx") && summary.contains("Diesel") && summary.contains("SeaORM"),
        "{summary}"
    );
    // Code with no database code the audit knows says so: a clean result there means
    // nothing (here: a repository layer behind a trait the audit cannot see into).
    let dir = std::env::temp_dir().join(format!("au-audit-blind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("service.rs"),
        "async fn sign_up(repo: &dyn Repo, email: &str) -> Result<(), Error> {\n\
         \x20   if repo.lookup(email).await?.is_none() { repo.store(email).await?; }\n    Ok(())\n}\n",
    )
    .unwrap();
    let (code, text) = audit(&["--deny", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains("no read-then-insert race found"), "{text}");
    assert!(text.contains("no database code recognised"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exclude_and_include_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit");
    let all = findings(&root.join("positive")).len();
    let (_, json) = audit(&[
        "--format",
        "json",
        "--exclude",
        "diesel*.rs",
        root.join("positive").to_str().unwrap(),
    ]);
    let kept: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let from_diesel_files = |f: &serde_json::Value| {
        Path::new(f["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("diesel")
    };
    assert!(
        kept.len() < all && !kept.iter().any(from_diesel_files),
        "{kept:?}"
    );
    let test_code = root.join("negative/test_code.rs");
    assert!(findings(&test_code).is_empty());
    let (_, json) = audit(&[
        "--format",
        "json",
        "--include-tests",
        test_code.to_str().unwrap(),
    ]);
    let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn a_closed_pipe_ends_the_output_not_the_run() {
    use std::io::Read as _;
    // More output than a pipe holds (64 KiB), so that the writes after the close fail.
    let dir = std::env::temp_dir().join(format!("au-audit-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for n in 0..300 {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive/sqlx_is_none.rs"),
            dir.join(format!("job_{n}.rs")),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
        .args(["audit", "--deny"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `| head -c 1` does: read a byte, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0_u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "--deny's code, not a panic's 101: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A workspace of `packages` (name, dependencies, `src/lib.rs`) in a fresh directory.
fn workspace(name: &str, packages: &[(&str, &[&str], &str)]) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&root);
    for (package, deps, source) in packages {
        let dir = root.join(package);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let deps = deps.join(" ");
        let deps: String = deps
            .split_whitespace()
            .flat_map(|d| [d, " = { path = \"../", d, "\" }\n"])
            .collect();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\n\n[dependencies]\n{deps}"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("src/lib.rs"), source).unwrap();
    }
    root
}

#[test]
fn a_function_is_a_helper_only_where_its_package_can_call_it() {
    // The server's repository reads and inserts; a browser crate has API calls of the same
    // names, and a service crate that depends on the server calls the real ones.
    let server = "pub struct Repo { pool: sqlx::PgPool }
impl Repo {
    pub async fn find_workspace(&self, name: &str) -> Option<i64> {
        sqlx::query_scalar(\"SELECT id FROM workspaces WHERE name = $1\").bind(name).fetch_optional(&self.pool).await.ok().flatten()
    }
    pub async fn create_workspace(&self, name: &str) {
        sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(name).execute(&self.pool).await.ok();
    }
}";
    let caller = "pub async fn open(api: &Api, name: &str) {
    if api.find_workspace(name).await.is_none() {
        api.create_workspace(name).await;
    }
}";
    let root = workspace(
        "audit-packages",
        &[
            ("server", &[], server),
            ("dashboard", &[], caller),
            ("service", &["server"], caller),
        ],
    );
    let found = findings(&root);
    let files: Vec<&str> = found.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 1, "{found:?}");
    assert!(files[0].ends_with("service/src/lib.rs"), "{found:?}");
}

/// The findings of an audit of a tree of `files` (path, source) written under a fresh
/// temporary directory named after `name`, removed afterwards.
fn audited_tree(name: &str, files: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let dir = written_tree(name, files);
    let found = findings(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    found
}

/// A fresh directory under the system's temporary one holding `files` (path, source).
fn written_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, source) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, source).unwrap();
    }
    dir
}

/// An unqualified call names the function of that name defined in the caller's own file
/// (Rust resolves it in the module first), even when another module defines a function of
/// the same name that does something else to the database.
#[test]
fn an_unqualified_call_names_the_function_in_its_own_file() {
    let found = audited_tree(
        "au-audit-same-file",
        &[
            (
                "rooms.rs",
                r#"
async fn room_exists(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

async fn create_room(pool: &PgPool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO rooms (id) VALUES ($1)").bind(id).execute(pool).await?;
    Ok(())
}

pub async fn ensure_room(pool: &PgPool, id: &str) -> Result<(), sqlx::Error> {
    if !room_exists(pool, id).await? {
        create_room(pool, id).await?;
    }
    Ok(())
}
"#,
            ),
            // The HTTP handler of the same name: it reads and writes other tables.
            (
                "routes.rs",
                r#"
pub async fn create_room(pool: &PgPool, body: Body) -> Result<Json<Room>, AppError> {
    let user = sqlx::query_as("SELECT * FROM users WHERE id = $1")
        .bind(&body.user)
        .fetch_one(pool)
        .await?;
    sqlx::query("INSERT INTO room_events (room, kind) VALUES ($1, 'create')")
        .bind(&body.id)
        .execute(pool)
        .await?;
    Ok(Json(Room::of(user)))
}
"#,
            ),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["function"], "ensure_room");
    assert_eq!(found[0]["table"], "rooms");
}

/// A call through a module path (`device::create_device(..)`) names the function in that
/// module's file, not another module's function of the same name.
#[test]
fn a_module_path_names_the_function_in_that_module() {
    let found = audited_tree(
        "au-audit-module",
        &[
            (
                "data/device.rs",
                r#"
pub async fn device_exists(pool: &PgPool, user: &str, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM devices WHERE user_id = $1 AND id = $2)")
        .bind(user)
        .bind(id)
        .fetch_one(pool)
        .await
}

pub async fn create_device(pool: &PgPool, user: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO devices (user_id, id) VALUES ($1, $2)")
        .bind(user)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
"#,
            ),
            (
                "admin.rs",
                r#"
// The admin endpoint of the same name: it calls the data module's function.
pub async fn create_device(pool: &PgPool, body: Body) -> Result<(), AppError> {
    if data::device::device_exists(pool, &body.user, &body.id).await? {
        return Ok(());
    }
    data::device::create_device(pool, &body.user, &body.id).await?;
    audit_log(pool, "device created").await
}

async fn audit_log(pool: &PgPool, text: &str) -> Result<(), AppError> {
    sqlx::query("INSERT INTO audit_log (text) VALUES ($1)").bind(text).execute(pool).await?;
    Ok(())
}
"#,
            ),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["function"], "create_device");
    assert_eq!(found[0]["table"], "devices");
}

/// A `SeaORM` entity imported by its bare name (`use super::entity::jobs::{ActiveModel,
/// Entity}`) is the table of its file's module: one module's read of its bare `Entity` and
/// another module's insert of its own are different tables.
#[test]
fn bare_entities_of_two_modules_are_two_tables() {
    let found = audited_tree(
        "au-audit-entities",
        &[
            (
                "table/jobs.rs",
                r"
use super::entity::jobs::{ActiveModel, Column, Entity};
use sea_orm::*;

pub async fn pending(db: &DatabaseConnection, org: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Org.eq(org)).one(db).await
}

pub async fn add(db: &DatabaseConnection, org: &str) -> Result<(), DbErr> {
    let job = ActiveModel { org: Set(org.to_owned()), ..Default::default() };
    Entity::insert(job).exec(db).await?;
    Ok(())
}
",
            ),
            (
                "table/files.rs",
                r"
use super::entity::files::{ActiveModel, Column, Entity};
use sea_orm::*;

pub async fn add_file(db: &DatabaseConnection, org: &str) -> Result<(), DbErr> {
    let file = ActiveModel { org: Set(org.to_owned()), ..Default::default() };
    Entity::insert(file).exec(db).await?;
    Ok(())
}
",
            ),
            // A job that looks for pending work and records a file when there is none: a
            // read of one table and an insert into another.
            (
                "job.rs",
                r"
pub async fn run(db: &DatabaseConnection, org: &str) -> Result<(), DbErr> {
    if jobs::pending(db, org).await?.is_none() {
        files::add_file(db, org).await?;
    }
    Ok(())
}
",
            ),
        ],
    );
    assert!(found.is_empty(), "{found:?}");
}

/// A function of an `impl Entity` block called through the entity's alias (`pub use
/// task::Entity as Task;` then `Task::find_by_kind(..)`) is that entity's function: its read
/// decides the insert after it.
#[test]
fn an_entity_alias_names_its_impl_entity_functions() {
    let found = audited_tree(
        "au-audit-entity-alias",
        &[
            (
                "model/mod.rs",
                "pub mod task;\npub use task::Entity as Task;\n",
            ),
            (
                "model/task.rs",
                r"
pub use super::entities::task::*;
use sea_orm::*;

impl Entity {
    pub async fn find_by_kind<C: ConnectionTrait>(db: &C, kind: i32) -> Result<Option<Model>, DbErr> {
        Entity::find().filter(Column::Kind.eq(kind)).one(db).await
    }
}
",
            ),
            (
                "routes.rs",
                r"
use crate::model::{task, Task};
use sea_orm::*;

pub async fn open_task(db: &DatabaseConnection, kind: i32) -> Result<task::Model, DbErr> {
    match Task::find_by_kind(db, kind).await? {
        Some(found) => Ok(found),
        None => {
            task::ActiveModel { kind: Set(kind), ..Default::default() }
                .insert(db)
                .await
        }
    }
}
",
            ),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["function"], "open_task");
    assert_eq!(found[0]["table"], "task");
}

/// SQL in a file of rusqlite code is rusqlite's, which the audit does not read: its
/// `SELECT` then `INSERT` is not taken for sqlx statements (the same code with sqlx is a
/// finding, so the test can fail).
#[test]
fn sql_of_a_client_the_audit_does_not_read_is_not_a_finding() {
    let body = r#"
pub fn add_account(conn: &Connection, did: &str) -> Result<(), Error> {
    let exists: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM account WHERE did = ?1)", [did], |r| r.get(0))?;
    if exists {
        return Err(Error::Taken);
    }
    conn.execute("INSERT INTO account (did) VALUES (?1)", [did])?;
    Ok(())
}
"#;
    let rusqlite = audited_tree(
        "au-audit-rusqlite",
        &[("account.rs", &format!("use rusqlite::Connection;\n{body}"))],
    );
    assert!(rusqlite.is_empty(), "{rusqlite:?}");
    let sqlx = audited_tree(
        "au-audit-sqlx-twin",
        &[(
            "account.rs",
            &format!("use sqlx::SqliteConnection as Connection;\n{body}"),
        )],
    );
    assert_eq!(sqlx.len(), 1, "{sqlx:?}");
}

/// A function that runs only while every caller holds a process-wide mutex (`let _guard =
/// SYNC_LOCK.lock();` in the one that starts the work, through a loop and a method) cannot
/// race itself in one process: not a finding. The same function with a second caller that
/// holds no lock is one.
#[test]
fn a_function_only_run_under_a_static_lock_is_not_a_finding() {
    let helper = r"
fn record_vote(conn: &mut PgConnection, issue: i32, user: i32) -> QueryResult<()> {
    let existing = votes::table
        .filter(votes::issue.eq(issue))
        .filter(votes::user.eq(user))
        .first::<Vote>(conn)
        .optional()?;
    if existing.is_none() {
        diesel::insert_into(votes::table)
            .values((votes::issue.eq(issue), votes::user.eq(user)))
            .execute(conn)?;
    }
    Ok(())
}
";
    let locked = r"
static SYNC_LOCK: Mutex<()> = Mutex::new(());

pub fn update(conn: &mut PgConnection, comment: &Comment) -> QueryResult<()> {
    let _guard = SYNC_LOCK.lock();
    for command in commands(comment) {
        command.apply(conn)?;
    }
    Ok(())
}

impl Command {
    fn apply(&self, conn: &mut PgConnection) -> QueryResult<()> {
        record_vote(conn, self.issue, self.user)
    }
}
";
    let found = audited_tree(
        "au-audit-static-lock",
        &[("nag.rs", &format!("{locked}{helper}"))],
    );
    assert!(found.is_empty(), "{found:?}");
    let unlocked = format!(
        "{locked}{helper}
pub fn webhook(conn: &mut PgConnection, issue: i32, user: i32) -> QueryResult<()> {{
    record_vote(conn, issue, user)
}}
"
    );
    let found = audited_tree("au-audit-static-lock-twin", &[("nag.rs", &unlocked)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["function"], "record_vote");
}

/// A service whose one error conversion turns MySQL's duplicate-entry error (`1062`) into
/// the same "already exists" answer its check gives (`impl From<DbErr> for ApiError`, run
/// by `?`): a lost race ends as the check would have, so a handler returning that error type
/// (here through a `Result` alias) is not a finding. The same handler with a conversion that
/// does not look at the error is one.
#[test]
fn an_error_conversion_that_answers_a_duplicate_as_the_check_does_is_handling() {
    let endpoint = r"
use sea_orm::*;

pub async fn create(db: &DatabaseConnection, name: String) -> ApiResult<()> {
    if app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await?.is_some() {
        return Err(ApiError::exists());
    }
    app::ActiveModel { name: Set(name), ..Default::default() }.insert(db).await?;
    Ok(())
}
";
    let conversion = r#"
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn from_db(err: DbErr) -> Self {
        match err {
            DbErr::Exec(text) if text.contains("1062") => ApiError::exists(),
            other => ApiError::database(other),
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        ApiError::from_db(err)
    }
}
"#;
    let found = audited_tree(
        "au-audit-conversion",
        &[("error.rs", conversion), ("app.rs", endpoint)],
    );
    assert!(found.is_empty(), "{found:?}");
    let unhandled = r"
pub type ApiResult<T> = Result<T, ApiError>;

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        ApiError::database(err)
    }
}
";
    let found = audited_tree(
        "au-audit-conversion-twin",
        &[("error.rs", unhandled), ("app.rs", endpoint)],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["function"], "create");
}

#[test]
fn an_error_conversion_answers_only_a_check_that_rejects_and_only_an_unmapped_error() {
    // The conversion of `an_error_conversion_that_answers_a_duplicate_as_the_check_does_is_handling`:
    // a duplicate becomes "already exists".
    let conversion = r#"
pub type ApiResult<T> = Result<T, ApiError>;

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::Exec(text) if text.contains("23505") => ApiError::exists(),
            other => ApiError::database(other),
        }
    }
}
"#;
    // Rejects, and the insert's error goes to the conversion: handled.
    let rejects = r"
use sea_orm::*;

pub async fn create(db: &DatabaseConnection, name: String) -> ApiResult<()> {
    if app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await?.is_some() {
        return Err(ApiError::exists());
    }
    app::ActiveModel { name: Set(name), ..Default::default() }.insert(db).await?;
    Ok(())
}
";
    // Returns the row it found: the loser wanted the row and gets "already exists".
    let gets = r"
use sea_orm::*;

pub async fn by_name_or_create(db: &DatabaseConnection, name: String) -> ApiResult<app::Model> {
    if let Some(found) = app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await? {
        return Ok(found);
    }
    let made = app::ActiveModel { name: Set(name), ..Default::default() }.insert(db).await?;
    Ok(made)
}
";
    // Rejects, but maps the insert's error on the spot: the conversion never sees it.
    let mapped = r"
use sea_orm::*;

pub async fn create(db: &DatabaseConnection, name: String) -> ApiResult<()> {
    if app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await?.is_some() {
        return Err(ApiError::exists());
    }
    app::ActiveModel { name: Set(name), ..Default::default() }
        .insert(db)
        .await
        .map_err(|_| ApiError::failed())?;
    Ok(())
}
";
    let found = audited_tree(
        "au-audit-conversion-rejects",
        &[("error.rs", conversion), ("app.rs", rejects)],
    );
    assert!(found.is_empty(), "{found:?}");
    // Names the conversion's `from` elsewhere: `from` is no handler by its bare name.
    let names_from = r"
use sea_orm::*;

pub async fn by_name_or_create(db: &DatabaseTransaction, name: String) -> ApiResult<app::Model> {
    let found = app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await?;
    let row = match found {
        Some(found) => found,
        None => app::ActiveModel { name: Set(name), ..Default::default() }.insert(db).await?,
    };
    db.commit().await.map_err(ApiError::from)?;
    Ok(row)
}
";
    // The insert in a helper whose own type converts: its caller wanted the row.
    let helper_inserts = r"
use sea_orm::*;

async fn make(db: &DatabaseConnection, name: String) -> ApiResult<app::Model> {
    Ok(app::ActiveModel { name: Set(name), ..Default::default() }.insert(db).await?)
}

pub async fn by_name_or_create(db: &DatabaseConnection, name: String) -> ApiResult<app::Model> {
    match app::Entity::find().filter(app::Column::Name.eq(&name)).one(db).await? {
        Some(found) => Ok(found),
        None => make(db, name).await,
    }
}
";
    for (name, code, function) in [
        (
            "au-audit-conversion-helper",
            helper_inserts,
            "by_name_or_create",
        ),
        ("au-audit-conversion-gets", gets, "by_name_or_create"),
        ("au-audit-conversion-mapped", mapped, "create"),
        (
            "au-audit-conversion-names-from",
            names_from,
            "by_name_or_create",
        ),
    ] {
        let found = audited_tree(name, &[("error.rs", conversion), ("app.rs", code)]);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0]["function"], function, "{name}");
    }
}

/// A handler named as the repository function it calls, in a file named as the repository's
/// module (`endpoints/mods.rs`'s `create` calling `mods::create`): the call is the
/// repository's function, not the handler calling itself.
#[test]
fn a_module_path_from_an_import_is_not_the_callers_own_file() {
    let dir = std::env::temp_dir().join(format!("au-audit-modules-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src/endpoints")).unwrap();
    std::fs::create_dir_all(dir.join("src/repository")).unwrap();
    std::fs::write(
        dir.join("src/repository/mods.rs"),
        "pub async fn get_one(id: &str, pool: &sqlx::PgPool) -> Result<Option<Mod>, sqlx::Error> {\n\
         \x20   sqlx::query_as(\"SELECT * FROM mods WHERE id = $1\").bind(id).fetch_optional(pool).await\n}\n\
         pub async fn create(id: &str, pool: &sqlx::PgPool) -> Result<Mod, sqlx::Error> {\n\
         \x20   sqlx::query_as(\"INSERT INTO mods (id) VALUES ($1) RETURNING *\").bind(id).fetch_one(pool).await\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/endpoints/mods.rs"),
        "use crate::repository::mods;\n\
         pub async fn create(id: &str, pool: &sqlx::PgPool) -> Result<Mod, sqlx::Error> {\n\
         \x20   let existing = mods::get_one(id, pool).await?;\n\
         \x20   let the_mod = match existing {\n\
         \x20       Some(m) => m,\n\
         \x20       None => mods::create(id, pool).await?,\n\
         \x20   };\n\
         \x20   Ok(the_mod)\n}\n",
    )
    .unwrap();
    let found = findings(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("endpoints/mods.rs"),
        "{found:?}"
    );
    assert_eq!(
        (
            found[0]["read_line"].as_u64(),
            found[0]["write_line"].as_u64()
        ),
        (Some(3), Some(6))
    );
}

/// A package whose sqlx is built for SQLite alone runs each writing statement one at a
/// time, its own `SELECT` included: its `INSERT .. SELECT` anti-join is atomic there, and
/// the same statement in a package built for PostgreSQL is not.
#[test]
fn an_insert_select_is_atomic_in_a_package_built_for_sqlite_alone() {
    let source = "pub async fn mark_all_read(pool: &Pool, user: i64) {
    let query = r#\"INSERT INTO read_notifications (notification_id, user_id)
        SELECT notifications.id, ? FROM notifications
        LEFT JOIN read_notifications ON notifications.id = read_notifications.notification_id
            AND read_notifications.user_id = ?
        WHERE read_notifications.notification_id IS NULL\"#;
    sqlx::query(query).bind(user).bind(user).execute(pool).await.ok();
}";
    let manifest = |features: &str| {
        format!(
            "[package]\nname = \"db\"\nversion = \"0.1.0\"\n\n[dependencies]\nsqlx = {{ version = \"0.8\", features = [{features}] }}\n"
        )
    };
    let sqlite = manifest("\"sqlite\", \"runtime-tokio\", \"macros\"");
    let found = audited_tree(
        "audit-sqlite-package",
        &[("db/Cargo.toml", &sqlite), ("db/src/lib.rs", source)],
    );
    assert!(found.is_empty(), "{found:?}");
    let postgres = manifest("\"postgres\", \"runtime-tokio\"");
    let found = audited_tree(
        "audit-postgres-package",
        &[("db/Cargo.toml", &postgres), ("db/src/lib.rs", source)],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["write_line"], 7, "{found:?}");
}

/// A file that no module declares is never compiled: an old copy kept beside the code
/// (`src/backup/`) is left out and counted, and the same race in the module the crate
/// declares is still found.
#[test]
fn a_file_no_module_declares_is_left_out_and_counted() {
    let race =
        "pub async fn follow(pool: &PgPool, user: i64, tag: &str) -> Result<(), sqlx::Error> {
    let found = sqlx::query(\"SELECT 1 FROM follows WHERE user_id = $1 AND tag = $2\")
        .bind(user).bind(tag).fetch_optional(pool).await?;
    if found.is_none() {
        sqlx::query(\"INSERT INTO follows (user_id, tag) VALUES ($1, $2)\")
            .bind(user).bind(tag).execute(pool).await?;
    }
    Ok(())
}";
    let dir = written_tree(
        "au-audit-undeclared",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
            ),
            ("src/lib.rs", "mod follows;\n"),
            ("src/follows.rs", race),
            ("src/backup/follows_20240101.rs", race),
        ],
    );
    let found = findings(&dir);
    let (_, text) = audit(&[dir.to_str().unwrap()]);
    // The file itself, when it is the path given, is audited.
    let given = findings(&dir.join("src/backup/follows_20240101.rs"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("src/follows.rs"),
        "{found:?}"
    );
    let summary = text.lines().find(|l| l.starts_with("audited ")).unwrap();
    assert!(
        summary.starts_with("audited 2 files")
            && summary.contains("1 files no module declares left out"),
        "{summary}"
    );
    assert_eq!(given.len(), 1, "{given:?}");
}
