//! What a MySQL 8 user meets: without the `mariadb` feature, `upsert_returning` on a MySQL
//! connection fails to compile, naming the reason (MySQL has no `RETURNING`), while
//! `upsert` compiles. Run with the suite's `mariadb` feature off:
//! `cargo test --no-default-features --test ui_mysql8` (as `scripts/test` does). With the
//! feature on, `upsert_returning` runs instead (`tests/runtime.rs`).

#[cfg(not(feature = "mariadb"))]
#[test]
fn ui_mysql8() {
    trybuild::TestCases::new().compile_fail("tests/ui-mysql8/*.rs");
}
