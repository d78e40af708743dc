//! Compile-fail cases checked against a schema snapshot (`tests/ui-schema/atomic-upsert.schema`,
//! `atomic-upsert-cli prepare` of `tests/ui-schema/schema.sql`): each mismatch is a compile
//! error on the user's tokens, with the fix.
//!
//! The derive finds the snapshot through `ATOMIC_UPSERT_SCHEMA`; the test sets it for the
//! compiler by running itself again with the variable set (no `unsafe` `set_var`).

use std::process::Command;

#[test]
fn ui_schema() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/ui-schema/atomic-upsert.schema"
    );
    if std::env::var_os("ATOMIC_UPSERT_SCHEMA").is_none() {
        let status = Command::new(std::env::current_exe().expect("own path"))
            .args(["--exact", "ui_schema", "--nocapture"])
            .env("ATOMIC_UPSERT_SCHEMA", fixture)
            .status()
            .expect("the test binary runs again");
        assert!(
            status.success(),
            "the snapshot UI cases failed (output above)"
        );
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui-schema/snapshot-*.rs");
    cases.pass("tests/ui-schema/pass-*.rs");
}
