//! Expansion snapshots: the generated code of representative structs
//! (`tests/expand/*.rs`), laid out one statement per line and compared with the reviewed
//! text beside each (`*.expanded`). A change to the generated code or to any statement
//! shows as a diff of these files. `ATOMIC_UPSERT_BLESS=1 cargo test -p upsert-derive`
//! writes them anew.

use std::fmt::Write as _;
use std::path::Path;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// `tokens` as text: a line break after `;` and around braces, indented by depth.
fn layout(tokens: TokenStream) -> String {
    let mut out = String::new();
    write_tokens(&mut out, tokens, 0);
    out.lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.push_str(&"    ".repeat(depth));
}

fn write_tokens(out: &mut String, tokens: TokenStream, depth: usize) {
    let mut joint = false;
    for token in tokens {
        if !joint && !out.ends_with(['\n', ' ', '(', '[']) && !out.is_empty() {
            out.push(' ');
        }
        joint = false;
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if group.delimiter() == Delimiter::Brace {
                    out.push('{');
                    newline(out, depth + 1);
                    write_tokens(out, group.stream(), depth + 1);
                    newline(out, depth);
                    out.push('}');
                    newline(out, depth);
                } else {
                    out.push_str(open);
                    write_tokens(out, group.stream(), depth);
                    out.push_str(close);
                }
            }
            TokenTree::Punct(punct) => {
                out.push(punct.as_char());
                joint = punct.spacing() == Spacing::Joint;
                if punct.as_char() == ';' {
                    newline(out, depth);
                }
            }
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
}

#[test]
fn expansions_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let bless = std::env::var_os("ATOMIC_UPSERT_BLESS").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/expand")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 8, "the representative structs are there");
    let mut stale = Vec::new();
    for input in inputs {
        let source = std::fs::read_to_string(&input).expect("read");
        let parsed: syn::DeriveInput = syn::parse_str(&source).expect("a struct");
        let expanded = layout(crate::expand::derive(&parsed, crate::expand::Backends::ALL));
        let snapshot = input.with_extension("expanded");
        if bless {
            std::fs::write(&snapshot, &expanded).expect("write");
        } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(expanded.as_str()) {
            stale.push(snapshot.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "the generated code changed: {stale:?}; review it, then ATOMIC_UPSERT_BLESS=1 \
         cargo test -p upsert-derive"
    );
}
