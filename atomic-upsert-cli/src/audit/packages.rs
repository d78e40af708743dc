//! The Cargo packages of the audited code: which package each file belongs to (the nearest
//! `Cargo.toml` with a `[package]` above it, up to the audited path) and which packages each
//! can call (itself and what it depends on, directly or not). A function of one package is
//! a helper only where it can be called: a browser crate's `create_workspace` API call is
//! not its server's function of the same name.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The packages found: each file's, and what each package can call.
#[derive(Debug, Default)]
pub struct Packages {
    /// The package of each file given to [`Packages::of`], in that order.
    of_file: Vec<Option<usize>>,
    /// For each package, the packages it can call (itself included).
    visible: Vec<Rc<HashSet<usize>>>,
    /// For each package, whether its database library is built for SQLite alone (see
    /// [`Manifest::sqlite_only`]).
    sqlite_only: Vec<bool>,
    /// For each package, its directory and the file names its manifest gives its targets
    /// (`[[bin]] path = "src/tools/seed.rs"` gives `seed.rs`).
    places: Vec<(PathBuf, Vec<String>)>,
}

impl Packages {
    /// The packages of `files` below `root`: each directory's manifest is read once.
    pub fn of(root: &Path, files: &[PathBuf]) -> Self {
        let mut is_package: HashMap<PathBuf, bool> = HashMap::new();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut dependencies: Vec<Vec<String>> = Vec::new();
        let mut sqlite_only: Vec<bool> = Vec::new();
        let mut targets: Vec<Vec<String>> = Vec::new();
        let mut of_file = Vec::with_capacity(files.len());
        for file in files {
            let package = package_dir(root, file, &mut is_package).and_then(|dir| {
                if let Some(known) = dirs.iter().position(|d| *d == dir) {
                    return Some(known);
                }
                let found = manifest(&dir.join("Cargo.toml"))?;
                dirs.push(dir);
                names.push(found.name);
                dependencies.push(found.dependencies);
                sqlite_only.push(found.sqlite_only);
                targets.push(found.targets);
                Some(dirs.len() - 1)
            });
            of_file.push(package);
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
                Rc::new(seen)
            })
            .collect();
        Packages {
            of_file,
            visible,
            sqlite_only,
            places: dirs.into_iter().zip(targets).collect(),
        }
    }

    /// The directory of file `file`'s package and the file names its manifest gives its
    /// targets, when it is in a package.
    pub fn place(&self, file: usize) -> Option<(&Path, &[String])> {
        self.package(file)
            .and_then(|p| self.places.get(p))
            .map(|(dir, targets)| (dir.as_path(), targets.as_slice()))
    }

    /// Whether file `file`'s package talks to SQLite alone (its `sqlx`, `diesel` or
    /// `sea-orm` dependency enables the SQLite backend and no other): there a writing
    /// statement runs one at a time, its own reads included.
    pub fn sqlite_only(&self, file: usize) -> bool {
        self.package(file)
            .and_then(|p| self.sqlite_only.get(p))
            .copied()
            .unwrap_or(false)
    }

    /// The package of file `file` (its index in the files given), when it is in one.
    pub fn package(&self, file: usize) -> Option<usize> {
        self.of_file.get(file).copied().flatten()
    }

    /// The packages code of file `file` can call (all, when its package is unknown).
    pub fn visible(&self, file: usize) -> Option<Rc<HashSet<usize>>> {
        self.package(file)
            .and_then(|p| self.visible.get(p))
            .map(Rc::clone)
    }
}

/// The nearest directory above `file`, up to `root`, with a `Cargo.toml` that has a
/// `[package]`; what each directory holds is looked up once (`is_package`).
fn package_dir(
    root: &Path,
    file: &Path,
    is_package: &mut HashMap<PathBuf, bool>,
) -> Option<PathBuf> {
    let mut dir = file.parent();
    while let Some(at) = dir {
        let package = *is_package.entry(at.to_path_buf()).or_insert_with(|| {
            std::fs::read_to_string(at.join("Cargo.toml"))
                .is_ok_and(|text| text.contains("[package]"))
        });
        if package {
            return Some(at.to_path_buf());
        }
        if at == root || !at.starts_with(root) {
            return None;
        }
        dir = at.parent();
    }
    None
}

/// What a package's manifest says.
struct Manifest {
    /// The package's name, with `-` as `_`.
    name: String,
    /// The packages it depends on (normal and build dependencies, `package = ".."` renames
    /// followed), with `-` as `_`.
    dependencies: Vec<String>,
    /// Its database library's features name SQLite's backend and no other
    /// (`sqlx = { features = ["sqlite", ..] }`, `diesel = { features = ["sqlite"] }`,
    /// `sea-orm = { features = ["sqlx-sqlite"] }`).
    sqlite_only: bool,
    /// The file names of the targets it places itself (`[lib]`, `[[bin]]`, `[[example]]`,
    /// `[[test]]`, `[[bench]]` with a `path`, and `package.build`).
    targets: Vec<String>,
}

/// A manifest's package name, dependencies and backend ([`Manifest`]).
fn manifest(path: &Path) -> Option<Manifest> {
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    let name = table
        .get("package")?
        .get("name")?
        .as_str()?
        .replace('-', "_");
    let mut deps = Vec::new();
    let mut backends: Vec<String> = Vec::new();
    for section in ["dependencies", "build-dependencies"] {
        if let Some(toml::Value::Table(entries)) = table.get(section) {
            for (key, value) in entries {
                let renamed = value.get("package").and_then(toml::Value::as_str);
                let dependency = renamed.unwrap_or(key).replace('-', "_");
                if matches!(dependency.as_str(), "sqlx" | "diesel" | "sea_orm")
                    && let Some(toml::Value::Array(features)) = value.get("features")
                {
                    backends.extend(features.iter().filter_map(toml::Value::as_str).filter_map(
                        |feature| {
                            ["sqlite", "postgres", "mysql", "any"]
                                .into_iter()
                                .find(|backend| feature.contains(backend))
                                .map(str::to_owned)
                        },
                    ));
                }
                deps.push(dependency);
            }
        }
    }
    let sqlite_only = !backends.is_empty() && backends.iter().all(|b| b == "sqlite");
    let file_name = |path: &toml::Value| {
        path.as_str()
            .and_then(|p| Path::new(p).file_name())
            .map(|name| name.to_string_lossy().into_owned())
    };
    let mut targets: Vec<String> = table
        .get("package")
        .and_then(|package| package.get("build"))
        .and_then(file_name)
        .into_iter()
        .collect();
    if let Some(lib) = table.get("lib").and_then(|lib| lib.get("path")) {
        targets.extend(file_name(lib));
    }
    for kind in ["bin", "example", "test", "bench"] {
        if let Some(toml::Value::Array(entries)) = table.get(kind) {
            targets.extend(
                entries
                    .iter()
                    .filter_map(|entry| entry.get("path"))
                    .filter_map(file_name),
            );
        }
    }
    Some(Manifest {
        name,
        dependencies: deps,
        sqlite_only,
        targets,
    })
}
