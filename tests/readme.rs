//! The README's example structs compile as written: every Rust block that only defines
//! items (the attribute examples: strategies, guards, conflict targets, column defaults) is
//! compiled with the imports a user writes. The Quick start, a whole program, is built as a
//! crate of its own by `scripts/fresh-app`; blocks that continue earlier ones (`pool`,
//! `rows` from context) or need a direct sqlx dependency are not compiled here.

use std::path::PathBuf;

/// What a user's file has above the README's items.
const PRELUDE: &str = "#![allow(dead_code)]\n\
    use atomic_upsert::AtomicUpsert;\n\
    use atomic_upsert::sqlx::types::Json;\n\n";

/// Whether a block only defines items: no statements, no `main`, nothing that needs a
/// direct dependency the facade's users may not have.
fn items_only(block: &str) -> bool {
    let code: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect();
    !code.is_empty()
        && code.iter().all(|line| {
            !line.starts_with("let ")
                && !line.contains(".await")
                && !line.contains("fn main")
                && !line.contains("sqlx::")
                && !line.contains("tracing_subscriber")
        })
}

#[test]
fn readme_example_structs_compile() {
    let readme = include_str!("../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```rust") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap_or_default()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/readme-blocks");
    std::fs::create_dir_all(&dir).expect("target/readme-blocks");
    let cases = trybuild::TestCases::new();
    let mut compiled = 0;
    for (n, block) in blocks.iter().enumerate() {
        if !items_only(block) {
            continue;
        }
        let path = dir.join(format!("block_{n:02}.rs"));
        std::fs::write(&path, format!("{PRELUDE}{block}\nfn main() {{}}\n")).expect("written");
        cases.pass(&path);
        compiled += 1;
    }
    // The attribute reference's examples: default, strategies, guards, partial index.
    assert!(
        compiled >= 4,
        "only {compiled} README blocks are items only"
    );
}
