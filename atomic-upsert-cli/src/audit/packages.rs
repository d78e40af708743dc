//! The Cargo packages of the audited code: which package each file belongs to (the nearest
//! `Cargo.toml` with a `[package]` above it, up to the audited path) and which packages each
//! can call (itself and what it depends on, directly or not). A function of one package is
//! a helper only where it can be called: a browser crate's `create_workspace` API call is
//! not its server's function of the same name.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The packages found, by index.
#[derive(Debug, Default)]
pub struct Packages {
    /// Each package's directory, by index.
    dirs: Vec<PathBuf>,
    /// For each package, the packages it can call (itself included).
    visible: Vec<HashSet<usize>>,
}

impl Packages {
    /// The packages of `files` below `root`.
    pub fn of(root: &Path, files: &[PathBuf]) -> Self {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut dependencies: Vec<Vec<String>> = Vec::new();
        for file in files {
            let Some(dir) = package_dir(root, file) else {
                continue;
            };
            if dirs.contains(&dir) {
                continue;
            }
            let Some((name, deps)) = manifest(&dir.join("Cargo.toml")) else {
                continue;
            };
            dirs.push(dir);
            names.push(name);
            dependencies.push(deps);
        }
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let direct: Vec<Vec<usize>> = dependencies
            .iter()
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect();
        let visible = (0..dirs.len())
            .map(|start| {
                let mut seen = HashSet::from([start]);
                let mut stack = vec![start];
                while let Some(at) = stack.pop() {
                    for &next in &direct[at] {
                        if seen.insert(next) {
                            stack.push(next);
                        }
                    }
                }
                seen
            })
            .collect();
        Packages { dirs, visible }
    }

    /// The package `file` belongs to, when it is in one.
    pub fn package(&self, root: &Path, file: &Path) -> Option<usize> {
        let dir = package_dir(root, file)?;
        self.dirs.iter().position(|d| *d == dir)
    }

    /// The packages code of `package` can call (all, when its package is unknown).
    pub fn visible(&self, package: Option<usize>) -> Option<&HashSet<usize>> {
        package.and_then(|p| self.visible.get(p))
    }
}

/// The nearest directory above `file`, up to `root`, with a `Cargo.toml` that has a
/// `[package]`.
fn package_dir(root: &Path, file: &Path) -> Option<PathBuf> {
    let mut dir = file.parent();
    while let Some(at) = dir {
        let manifest = at.join("Cargo.toml");
        if manifest.is_file()
            && std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains("[package]"))
        {
            return Some(at.to_path_buf());
        }
        if at == root || !at.starts_with(root) {
            return None;
        }
        dir = at.parent();
    }
    None
}

/// A manifest's package name and the names of the packages it depends on (normal and build
/// dependencies, `package = ".."` renames followed), with `-` as `_`.
fn manifest(path: &Path) -> Option<(String, Vec<String>)> {
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    let name = table
        .get("package")?
        .get("name")?
        .as_str()?
        .replace('-', "_");
    let mut deps = Vec::new();
    for section in ["dependencies", "build-dependencies"] {
        if let Some(toml::Value::Table(entries)) = table.get(section) {
            for (key, value) in entries {
                let renamed = value.get("package").and_then(toml::Value::as_str);
                deps.push(renamed.unwrap_or(key).replace('-', "_"));
            }
        }
    }
    Some((name, deps))
}
