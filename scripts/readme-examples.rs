//! The build script of the crate `scripts/fresh-app` makes from the README's examples: it
//! reads README.md (`README` in the environment) and writes `$OUT_DIR/readme.rs`, one module
//! holding every Rust example but the Quick start (built as a program of its own), so that
//! `cargo build` compiles them as written.
//!
//! - A block of `use` lines only is the imports of every example.
//! - The items of a block (structs, enums, impls, `#[tokio::test]` functions) are compiled
//!   where they are: at the module's top level.
//! - Its statements become the body of an `async fn` whose parameters are what the HTML
//!   comment just above the block says is in scope: `<!-- in scope: pool: PgPool -->`.
//!
//! Each example is marked with its line in README.md, so an error points back to it.

use std::fmt::Write as _;

fn main() {
    let path = std::env::var("README").expect("README: the path of README.md");
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-env-changed=README");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("readme.rs"), generate(&readme)).expect("readme.rs");
}

/// One fenced Rust block: its first line's number in README.md, the scope its comment
/// states, its lines.
struct Block<'a> {
    line: usize,
    scope: Option<&'a str>,
    lines: Vec<&'a str>,
}

fn blocks(readme: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut previous = "";
    let mut current: Option<Block> = None;
    for (number, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.starts_with("```rust") => {
                let scope = previous
                    .trim()
                    .strip_prefix("<!-- in scope:")
                    .and_then(|rest| rest.strip_suffix("-->"))
                    .map(str::trim);
                current = Some(Block { line: number + 2, scope, lines: Vec::new() });
            }
            Some(_) if line.trim() == "```" => blocks.extend(current.take()),
            Some(block) => block.lines.push(line),
            None => {}
        }
        previous = line;
    }
    blocks
}

fn generate(readme: &str) -> String {
    let mut imports = String::new();
    let mut items = String::new();
    let mut functions = String::new();
    let mut examples = 0;
    for block in blocks(readme) {
        let code: Vec<&str> = block
            .lines
            .iter()
            .map(|line| line.trim())
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .collect();
        if code.iter().any(|line| line.contains("fn main")) {
            continue; // the Quick start: a program, built as one
        }
        examples += 1;
        if code.iter().all(|line| line.starts_with("use ")) {
            let _ = writeln!(imports, "// README.md line {}", block.line);
            imports.extend(block.lines.iter().map(|line| format!("{line}\n")));
            continue;
        }
        let (block_items, body) = split(&block.lines);
        if !block_items.is_empty() {
            let _ = writeln!(items, "// README.md line {}", block.line);
            items.push_str(&block_items);
        }
        let has_statements = body
            .lines()
            .map(str::trim)
            .any(|line| !line.is_empty() && !line.starts_with("//"));
        match (has_statements, block.scope) {
            (true, scope) => {
                let _ = writeln!(
                    functions,
                    "// README.md line {line}\n\
                     async fn example_{line}({scope}) -> Result<(), Box<dyn std::error::Error>> {{\n\
                     {body}\
                     Ok(())\n}}\n",
                    line = block.line,
                    scope = scope.unwrap_or_default(),
                );
            }
            (false, Some(_)) => panic!(
                "README.md line {}: an `in scope` comment above a block with no statements",
                block.line
            ),
            (false, None) => {}
        }
    }
    assert!(examples >= 15, "only {examples} README examples found");
    format!(
        "/// The README's examples, {examples} blocks.\n\
         #[allow(unused_imports, unused_variables, unused_must_use, dead_code, clippy::all)]\n\
         mod readme {{\n{imports}\n{items}\n{functions}}}\n"
    )
}

/// A block's items (top level) and its statements (the function body), in order.
fn split(lines: &[&str]) -> (String, String) {
    let mut items = String::new();
    let mut body = String::new();
    let mut depth = 0_i32;
    let mut in_item = false;
    for line in lines {
        let code = code_of(line);
        if depth == 0 && !in_item {
            let trimmed = code.trim_start();
            in_item = line.starts_with(|c: char| !c.is_whitespace())
                && ["#[", "struct ", "enum ", "impl ", "fn ", "async fn ", "pub ", "mod ", "trait ", "type "]
                    .iter()
                    .any(|start| trimmed.starts_with(start));
        }
        let target = if in_item { &mut items } else { &mut body };
        target.push_str(line);
        target.push('\n');
        depth += code.chars().map(|c| match c {
            '{' | '(' | '[' => 1,
            '}' | ')' | ']' => -1,
            _ => 0,
        }).sum::<i32>();
        let end = code.trim_end();
        if in_item && depth == 0 && !end.starts_with("#[") && (end.ends_with('}') || end.ends_with(';')) {
            in_item = false;
        }
    }
    (items, body)
}

/// A line without its comments and the contents of its string literals.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push('"');
            }
            ('/', Some('/')) => break,
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}
