//! Compile-fail cases: one misuse per file in `tests/ui/`, each `.stderr` pointing at the
//! user's tokens; and in `tests/ui-pass/`, near misses that must compile. Bless after a
//! deliberate change with `TRYBUILD=overwrite cargo test --test ui` and read the diff.
//!
//! `scripts/test` runs them twice: with the default features, and with every backend on
//! (`--features sqlite,mariadb`), against the same `.stderr` files: one mistake gives the
//! same single error whichever backends the build has. Two cases are left out of the second
//! run: their errors are the same, but rustc's lists of the types that do implement a trait
//! grow with the backends' impls.

/// The cases whose rustc "implemented for" lists change with the backend features.
const LISTS_VARY: [&str; 2] = [
    "tests/ui/feature-type-without-feature.rs",
    "tests/ui/unencodable-field-type.rs",
];

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
