//! Which audited files the compiler builds. A `.rs` file in a package that is none of the
//! package's targets (`src/lib.rs`, `src/main.rs`, `build.rs`, a file under `src/bin/`,
//! `tests/`, `examples/` or `benches/`, or a `path` its manifest names), that no `mod`
//! declares and that no `#[path = ".."]` or `include!(..)` names, is never compiled: an old
//! copy kept beside the code (`scrapers/src/backup/merge_20260214.rs`). Its code never runs,
//! so it races with nothing, and the audit leaves it out.
//!
//! The test is by name, across every audited file: a module named anywhere counts as
//! declared for every file of that name. A file outside any package, or the audited path
//! itself when it is a file, is always kept.

use std::collections::HashSet;
use std::path::Path;

use syn::visit::Visit;

use super::packages::Packages;

/// For each of `files` (with the packages [`Packages::of`] found for them, in the same
/// order), whether it is left out: in a package, and neither a target of it nor named by a
/// `mod`, a `#[path]` or an `include!` of any audited file.
pub fn undeclared(files: &[(&Path, &syn::File)], packages: &Packages) -> Vec<bool> {
    let mut names = Names::default();
    for (_, syntax) in files {
        names.visit_file(syntax);
    }
    // A macro of the crate declares modules (`macro_rules! declare_modules { ($($name:
    // ident),*) => { $( pub mod $name; )* } }`): any name a macro's tokens hold may be one.
    if names.declaring_macro {
        let in_macros = std::mem::take(&mut names.in_macros);
        names.modules.extend(in_macros);
    }
    files
        .iter()
        .enumerate()
        .map(|(n, (file, _))| {
            let Some((dir, targets)) = packages.place(n) else {
                return false;
            };
            let file_name = file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            !(is_target(dir, file)
                || targets.contains(&file_name)
                || names.files.contains(&file_name)
                || module_name(file).is_some_and(|module| names.modules.contains(&module)))
        })
        .collect()
}

/// Whether `file` is a target of the package in `dir` by its place: `lib.rs`, `main.rs`
/// or `build.rs`, or under a `bin`, `tests`, `examples` or `benches` directory.
fn is_target(dir: &Path, file: &Path) -> bool {
    let relative = file.strip_prefix(dir).unwrap_or(file);
    let stem = file
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    matches!(stem, "lib" | "main" | "build")
        || relative.parent().is_some_and(|parent| {
            parent.components().any(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some("bin" | "tests" | "examples" | "benches")
                )
            })
        })
}

/// The name a `mod` declares `file` by: its stem, or its directory's name for a `mod.rs`.
fn module_name(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    if stem == "mod" {
        return Some(file.parent()?.file_name()?.to_str()?.to_owned());
    }
    Some(stem.to_owned())
}

/// The modules `mod name;` declares (a `mod` with a body is no file) and the file names
/// string literals in a `mod`'s attributes (`#[path = "x.rs"]`, `#[cfg_attr(.., path =
/// "x.rs")]`) or in an `include!(..)` name.
#[derive(Default)]
struct Names {
    modules: HashSet<String>,
    files: HashSet<String>,
    /// Whether a `macro_rules!` of the crate writes `mod $name`.
    declaring_macro: bool,
    /// Every identifier in a macro's tokens, its call's or its definition's.
    in_macros: HashSet<String>,
}

impl Names {
    /// Notes the identifiers of a macro's tokens ([`Names::in_macros`]), and whether they
    /// write `mod $name` ([`Names::declaring_macro`]).
    fn macro_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut after_mod = false;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Group(group) => self.macro_tokens(group.stream()),
                proc_macro2::TokenTree::Ident(ident) => {
                    after_mod = ident == "mod";
                    self.in_macros.insert(ident.to_string());
                    continue;
                }
                proc_macro2::TokenTree::Punct(punct) if punct.as_char() == '$' && after_mod => {
                    self.declaring_macro = true;
                }
                _ => {}
            }
            after_mod = false;
        }
    }

    /// The file names (`x.rs` of `"dir/x.rs"`) of the string literals in `tokens`.
    fn file_names(&mut self, tokens: proc_macro2::TokenStream) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Group(group) => self.file_names(group.stream()),
                proc_macro2::TokenTree::Literal(literal) => {
                    if let syn::Lit::Str(text) = syn::Lit::new(literal)
                        && let Some(name) = Path::new(&text.value()).file_name()
                    {
                        self.files.insert(name.to_string_lossy().into_owned());
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if node.content.is_none() {
            self.modules
                .insert(node.ident.to_string().trim_start_matches("r#").to_owned());
        }
        for attr in &node.attrs {
            match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }),
                    ..
                }) => {
                    if let Some(name) = Path::new(&text.value()).file_name() {
                        self.files.insert(name.to_string_lossy().into_owned());
                    }
                }
                syn::Meta::List(list) => self.file_names(list.tokens.clone()),
                _ => {}
            }
        }
        syn::visit::visit_item_mod(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        self.macro_tokens(node.tokens.clone());
        if node
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "include")
        {
            self.file_names(node.tokens.clone());
        }
        syn::visit::visit_macro(self, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_declared_by_its_module_name_its_place_or_a_path() {
        let root = std::env::temp_dir().join(format!("au-declared-{}", std::process::id()));
        let src = root.join("src");
        std::fs::create_dir_all(src.join("backup")).unwrap();
        std::fs::create_dir_all(src.join("bin")).unwrap();
        std::fs::create_dir_all(src.join("routes")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"app\"\n[[bin]]\nname = \"seed\"\npath = \"src/tools/seed.rs\"\n",
        )
        .unwrap();
        let sources = [
            (
                "src/lib.rs",
                "mod macros; mod routes; mod generated; #[path = \"legacy/old_db.rs\"] mod db;",
            ),
            ("src/routes/mod.rs", "mod users; declare!(teams);"),
            ("src/routes/teams.rs", ""),
            (
                "src/macros.rs",
                "macro_rules! declare { ($($name:ident),*) => { $( pub mod $name; )* } }",
            ),
            ("src/routes/users.rs", ""),
            ("src/old_db.rs", ""),
            ("src/bin/admin.rs", ""),
            ("src/tools/seed.rs", ""),
            ("src/generated.rs", "include!(\"../out/schema.rs\");"),
            ("src/schema.rs", ""),
            ("src/backup/merge_20260214.rs", ""),
            ("src/orphan.rs", ""),
        ];
        let files: Vec<(std::path::PathBuf, syn::File)> = sources
            .iter()
            .map(|(path, source)| (root.join(path), syn::parse_file(source).unwrap()))
            .collect();
        let paths: Vec<std::path::PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        let packages = Packages::of(&root, &paths);
        let given: Vec<(&Path, &syn::File)> = files.iter().map(|(p, f)| (p.as_path(), f)).collect();
        let left_out: Vec<&str> = undeclared(&given, &packages)
            .into_iter()
            .zip(sources)
            .filter(|(out, _)| *out)
            .map(|(_, (path, _))| path)
            .collect();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(left_out, ["src/backup/merge_20260214.rs", "src/orphan.rs"]);
    }
}
