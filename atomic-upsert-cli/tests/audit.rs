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
    assert!(suggestion.contains(".upsert(&pool)"), "{suggestion}");
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
fn a_file_that_does_not_parse_is_skipped_with_a_warning_and_fails_the_run() {
    let dir = std::env::temp_dir().join(format!("au-audit-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.rs"), "fn half( {").unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/positive/sqlx_is_none.rs"),
        dir.join("racy.rs"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_atomic-upsert-cli"))
        .args(["audit", "--format", "json", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found.len(), 1, "the other files are still audited");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.rs:1") && stderr.contains("cannot parse"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
