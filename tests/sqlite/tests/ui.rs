//! What SQLite cannot take fails to compile at the SQLite call, with a message naming what
//! SQLite lacks; the same struct still compiles and runs on PostgreSQL.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
