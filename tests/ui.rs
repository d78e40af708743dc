//! Compile-fail cases: one misuse per file in `tests/ui/`, each `.stderr` pointing at the
//! user's tokens; and in `tests/ui-pass/`, near misses that must compile. Bless after a
//! deliberate change with `TRYBUILD=overwrite cargo test --test ui` and read the diff.
//!
//! `scripts/test` runs them twice: with the default features, and with every backend on
//! (`--features sqlite,mariadb`), against the same `.stderr` files: one mistake gives the
//! same single error whichever backends the build has. One case is left out of the second
//! run: its error is the same, but rustc's list of the types that do implement a trait
//! grows with the backends' impls.

/// The cases whose rustc "implemented for" lists change with the backend features.
const LISTS_VARY: [&str; 1] = ["tests/ui/unencodable-field-type.rs"];

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    if cfg!(all(feature = "sqlite", feature = "mysql")) {
        let mut paths: Vec<_> = std::fs::read_dir("tests/ui")
            .expect("tests/ui")
            .map(|entry| entry.expect("an entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
            .filter(|path| {
                !LISTS_VARY
                    .iter()
                    .any(|skip| path.ends_with(skip.trim_start_matches("tests/ui/")))
            })
            .collect();
        paths.sort();
        for path in paths {
            cases.compile_fail(path);
        }
    } else {
        cases.compile_fail("tests/ui/*.rs");
    }
    cases.pass("tests/ui-pass/*.rs");
}
