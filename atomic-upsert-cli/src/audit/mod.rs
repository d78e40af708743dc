//! `atomic-upsert-cli audit [PATH]`: finds the seed's race in Rust sources. A function that
//! reads a row of a table and then, on a branch that depends on what it read, inserts into
//! that table has a window between the read and the write: two callers both see "no row"
//! and both insert. The report names the read and the write, the table, the key it could
//! infer, and the `#[derive(AtomicUpsert)]` struct and call that replace both.

mod ops;
mod report;

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::visit::Visit;

pub use ops::Api;
use ops::{Collector, FnOps, Kind, Op};
pub use report::{Format, render};

/// The comment that marks a finding as reviewed and safe, on the read's or the write's line
/// (or the line above either).
pub const ALLOW: &str = "atomic-upsert: allow";

/// One read-then-insert race.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// The file, as given or found under the audited path.
    pub file: PathBuf,
    /// The function holding both.
    pub function: String,
    /// The table, as the code names it.
    pub table: String,
    /// The read's key columns, when the `WHERE` (or `filter`) shows them.
    pub keys: Vec<String>,
    /// The read (or the `UPDATE` whose "no row" decides the insert), 1-based.
    pub read_line: usize,
    /// The insert, 1-based.
    pub write_line: usize,
    /// The library the code uses.
    pub api: Api,
    /// The columns the insert writes, when its SQL lists them.
    pub columns: Vec<String>,
    /// The replacement: a derive and its call.
    pub suggestion: String,
}

/// What an audit found, and the files it could not read or parse (each with why).
#[derive(Debug, Default)]
pub struct Audit {
    pub findings: Vec<Finding>,
    pub skipped: Vec<String>,
}

/// Audits every `.rs` file under `path` (a file or a directory; `target/`, `vendor/`,
/// hidden directories and symbolic links below `path` are skipped), with column types from
/// `snapshot` when given. A file that cannot be read or parsed is skipped and listed.
pub fn audit(
    path: &Path,
    snapshot: Option<&atomic_upsert::schema::Snapshot>,
) -> Result<Audit, String> {
    let mut files = Vec::new();
    collect_files(path, &mut files, true)?;
    files.sort();
    let mut audit = Audit::default();
    let mut parsed = Vec::new();
    for file in files {
        let result = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: {e}", file.display()))
            .and_then(|source| parse(&file, &source).map(|syntax| (source, syntax)));
        match result {
            Ok((source, syntax)) => parsed.push((file, source, syntax)),
            Err(why) => audit.skipped.push(why),
        }
    }
    // First pass: which functions read or insert a table, for their callers.
    let helpers = std::rc::Rc::new(helpers(parsed.iter().map(|(_, _, syntax)| syntax)));
    for (file, source, syntax) in &parsed {
        audit
            .findings
            .extend(findings(file, source, syntax, &helpers, snapshot));
    }
    Ok(audit)
}

/// The helpers of all `files`: each function name with one table effect.
fn helpers<'a>(files: impl Iterator<Item = &'a syn::File>) -> ops::Helpers {
    let mut by_name: std::collections::HashMap<String, Vec<Option<ops::Helper>>> =
        std::collections::HashMap::new();
    for file in files {
        let mut functions = Functions::default();
        functions.visit_file(file);
        for (name, found) in &functions.found {
            by_name
                .entry(name.clone())
                .or_default()
                .push(ops::helper_of(found));
        }
    }
    by_name
        .into_iter()
        .filter_map(|(name, helpers)| match helpers.as_slice() {
            [Some(helper)] => Some((name, helper.clone())),
            _ => None,
        })
        .collect()
}

fn parse(file: &Path, source: &str) -> Result<syn::File, String> {
    syn::parse_file(source).map_err(|e| {
        let at = e.span().start();
        format!(
            "{}:{}:{}: cannot parse: {e}",
            file.display(),
            at.line,
            at.column + 1
        )
    })
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, top: bool) -> Result<(), String> {
    // The path given is followed; links found below it are not (no loops).
    let meta = if top {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_owned());
        } else if top {
            return Err(format!("{}: not a Rust source file", path.display()));
        }
        return Ok(());
    }
    if !meta.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "vendor" {
            continue;
        }
        collect_files(&entry.path(), out, false)?;
    }
    Ok(())
}

fn findings(
    file: &Path,
    source: &str,
    syntax: &syn::File,
    helpers: &std::rc::Rc<ops::Helpers>,
    snapshot: Option<&atomic_upsert::schema::Snapshot>,
) -> Vec<Finding> {
    let mut functions = Functions {
        helpers: std::rc::Rc::clone(helpers),
        ..Functions::default()
    };
    functions.visit_file(syntax);
    let lines: Vec<&str> = source.lines().collect();
    let mut findings = Vec::new();
    for (name, found) in functions.found {
        for (read, write) in races(&found) {
            if allowed(&lines, read.line) || allowed(&lines, write.line) {
                continue;
            }
            findings.push(Finding {
                file: file.to_owned(),
                function: name.clone(),
                table: write.table.clone(),
                keys: read.keys.clone(),
                read_line: read.line,
                write_line: write.line,
                api: write.api,
                columns: write.columns.clone(),
                suggestion: report::suggestion(
                    &write.table,
                    &read.keys,
                    &write.columns,
                    write.api,
                    snapshot,
                ),
            });
        }
    }
    findings.sort_by_key(|f| (f.read_line, f.write_line));
    findings
}

/// Whether line `line` (1-based) or the one above carries [`ALLOW`].
fn allowed(lines: &[&str], line: usize) -> bool {
    [line, line.saturating_sub(1)]
        .iter()
        .filter(|&&l| l > 0)
        .any(|&l| lines.get(l - 1).is_some_and(|text| text.contains(ALLOW)))
}

/// The race rule, within one function: a read of table `t` (not `FOR UPDATE`), then a
/// later insert into `t` (without `ON CONFLICT`) that sits on a branch, or follows a
/// branch that returned early. An `UPDATE` of `t` followed that way by an insert is the
/// update-else-insert variant. One finding per insert.
fn races(found: &FnOps) -> Vec<(&Op, &Op)> {
    let mut pairs = Vec::new();
    for write in found
        .ops
        .iter()
        .filter(|o| o.kind == Kind::Insert && !o.guarded)
    {
        let before = |kind: Kind| {
            found
                .ops
                .iter()
                .filter(|r| {
                    r.kind == kind
                        && !r.guarded
                        && r.order < write.order
                        && r.table.eq_ignore_ascii_case(&write.table)
                })
                .max_by_key(|r| r.order)
        };
        // The read that decided, else an UPDATE whose "no row" did.
        let read = before(Kind::Read).or_else(|| before(Kind::Update));
        let Some(read) = read else {
            continue;
        };
        // The insert sits on a branch entered after the read, at or below the read's own
        // branch (not on a sibling arm), or an early exit on such a branch lies between them.
        let below = |path: &[usize]| path.len() > read.path.len() && path.starts_with(&read.path);
        let decided = below(&write.path)
            || found
                .early_returns
                .iter()
                .any(|(at, path)| read.order < *at && *at < write.order && below(path));
        if decided {
            pairs.push((read, write));
        }
    }
    pairs
}

/// Every function (free, in an `impl`, in a trait, and in a `macro_rules!` body) with what
/// it does to the database.
#[derive(Default)]
struct Functions {
    found: Vec<(String, FnOps)>,
    helpers: std::rc::Rc<ops::Helpers>,
}

impl Functions {
    fn body(&mut self, name: String, block: &syn::Block) {
        let mut collector = Collector::with(std::rc::Rc::clone(&self.helpers), &name);
        collector.visit_block(block);
        if !collector.found.ops.is_empty() {
            self.found.push((name, collector.found));
        }
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.body(node.sig.ident.to_string(), &node.block);
        // Functions nested in its body.
        syn::visit::visit_block(self, &node.block);
    }

    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.body(node.sig.ident.to_string(), &node.block);
        syn::visit::visit_block(self, &node.block);
    }

    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        if let Some(block) = &node.default {
            self.body(node.sig.ident.to_string(), block);
        }
    }

    fn visit_item_macro(&mut self, node: &'ast syn::ItemMacro) {
        // `macro_rules!` bodies: each rule's expansion, its `$var`s made plain identifiers,
        // parsed as items when it is some.
        if node.mac.path.is_ident("macro_rules") {
            for body in rule_bodies(node.mac.tokens.clone()) {
                if let Ok(file) = syn::parse2::<syn::File>(plain(body)) {
                    self.visit_file(&file);
                }
            }
        }
    }
}

/// The expansions of a `macro_rules!`'s rules: the brace, bracket or parenthesis group after
/// each `=>`.
fn rule_bodies(tokens: TokenStream) -> Vec<TokenStream> {
    let mut bodies = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        if let TokenTree::Punct(p) = &token
            && p.as_char() == '='
            && let Some(TokenTree::Punct(gt)) = tokens.peek()
            && gt.as_char() == '>'
        {
            tokens.next();
            if let Some(TokenTree::Group(group)) = tokens.next()
                && group.delimiter() != Delimiter::None
            {
                bodies.push(group.stream());
            }
        }
    }
    bodies
}

/// `tokens` with every `$name` replaced by the identifier `name` (and `$(..)*` repetitions
/// by their contents), so that a macro body parses as Rust.
fn plain(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '$' => match tokens.peek() {
                Some(TokenTree::Ident(_)) => {}
                Some(TokenTree::Group(_)) => {
                    if let Some(TokenTree::Group(group)) = tokens.next() {
                        out.extend(plain(group.stream()));
                    }
                    // The separator and the repetition operator.
                    while let Some(TokenTree::Punct(op)) = tokens.peek() {
                        if matches!(op.as_char(), '*' | '+' | '?' | ',' | ';') {
                            tokens.next();
                        } else {
                            break;
                        }
                    }
                }
                _ => out.push(TokenTree::Punct(p)),
            },
            TokenTree::Group(group) => {
                let mut inner = proc_macro2::Group::new(group.delimiter(), plain(group.stream()));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}
