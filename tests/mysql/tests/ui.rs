//! What MySQL cannot take fails to compile at the MySQL call, with a message naming what
//! MySQL lacks; the same struct still compiles and runs on PostgreSQL.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
