//! Compile-fail cases: one misuse per file in `tests/ui/`, each `.stderr` pointing at the
//! user's tokens; and in `tests/ui-pass/`, near misses that must compile. Bless after a
//! deliberate change with `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
