//! The real-world conformance corpus: upsert call sites of two open-source applications,
//! replayed on each application's own schema, loaded from its own migrations.
//!
//! - **Lemmy 0.19.20** (Rust, Diesel): crates.io `lemmy_db_schema`, its 233 Diesel
//!   migrations in name order, each in its own transaction, then its "replaceable schema"
//!   (the `r` schema of trigger functions and triggers), as `schema_setup::run` does.
//! - **Matrix Synapse 1.157.1** (Python, psycopg2): PyPI `matrix-synapse`, the full schemas
//!   of version 72 and the deltas 73..=94 (SQL and PostgreSQL files; the Python deltas touch
//!   no table used here), in a `C`-collated database, as `prepare_database.py` sets up a new
//!   one.
//!
//! `scripts/fetch-corpus.sh` downloads the packages at pinned, checksummed versions into
//! `target/corpus` (or `ATOMIC_UPSERT_CORPUS_DIR`); `scripts/test` runs it. Their files are
//! never committed here. A missing file fails the test with the command to run: it never
//! skips.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use atomic_upsert::sqlx::{self, PgPool, postgres::PgPoolOptions};

/// Where `scripts/fetch-corpus.sh` put the packages.
///
/// # Panics
/// When the directory is missing: the message says what to run.
#[must_use]
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("ATOMIC_UPSERT_CORPUS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.join("lemmy_db_schema-0.19.20/.complete").exists()
            && dir.join("matrix_synapse-1.157.1/.complete").exists(),
        "the corpus is not in {}: run ./scripts/fetch-corpus.sh (scripts/test runs it)",
        dir.display()
    );
    dir
}

/// A fresh database on the test server (`CREATE DATABASE .. {options}`), and a pool into it
/// whose connections start with `settings` (`SET name = value`).
///
/// # Panics
/// When the server refuses.
pub async fn database(prefix: &str, options: &str, settings: &[(&str, &str)]) -> (PgPool, String) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin(&format!("CREATE DATABASE \"{name}\" {options}")).await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(
            upsert_testkit::connect_options()
                .database(&name)
                .options(settings.iter().copied()),
        )
        .await
        .expect("the new database");
    (pool, name)
}

/// Drops a database [`database`] made, once its pool is closed.
///
/// # Panics
/// When the server refuses.
pub async fn drop_database(pool: PgPool, name: &str) {
    pool.close().await;
    admin(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
}

/// Runs `sql` on a short-lived connection to the server's own database.
async fn admin(sql: &str) {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(upsert_testkit::connect_options())
        .await
        .expect("the test server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    admin.close().await;
}

/// Runs one migration file in its own transaction (one simple-protocol batch is one
/// implicit transaction), naming the file on failure.
async fn run_file(pool: &PgPool, path: &Path, replace: &[(&str, &str)]) {
    let mut sql =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in replace {
        sql = sql.replace(from, to);
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The entries of `dir`, sorted by name bytewise (as `LC_ALL=C sort`).
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    entries
}

/// Lemmy's schema: every `migrations/*/up.sql` in name order, each in its own transaction,
/// then the replaceable schema (`r`: trigger functions and triggers) in one. Returns the
/// number of migrations applied.
///
/// # Panics
/// When a file fails; the message names it.
pub async fn load_lemmy(pool: &PgPool) -> usize {
    let root = corpus_dir().join("lemmy_db_schema-0.19.20");
    let migrations = sorted_entries(&root.join("migrations"));
    for dir in &migrations {
        run_file(pool, &dir.join("up.sql"), &[]).await;
    }
    let replaceable = root.join("replaceable_schema");
    let utils = std::fs::read_to_string(replaceable.join("utils.sql")).expect("utils.sql");
    let triggers = std::fs::read_to_string(replaceable.join("triggers.sql")).expect("triggers.sql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET client_min_messages = warning; DROP SCHEMA IF EXISTS r CASCADE; CREATE SCHEMA r;\n{utils}\n{triggers}"
    )))
    .execute(pool)
    .await
    .expect("Lemmy's replaceable schema");
    migrations.len()
}

/// Synapse's schema (main and state in one database): `common/schema_version.sql`, the
/// full schemas of version 72 (common, main, state), then for each version 73..=94 every
/// `*.sql` and `*.sql.postgres` delta of the three, sorted by file name, with Synapse's one
/// substitution (`$%AUTO_INCREMENT_PRIMARY_KEY%$`). Returns the number of delta files.
///
/// # Panics
/// When a file fails; the message names it.
pub async fn load_synapse(pool: &PgPool) -> usize {
    let schema = corpus_dir().join("matrix_synapse-1.157.1/synapse/storage/schema");
    let replace = [(
        "$%AUTO_INCREMENT_PRIMARY_KEY%$",
        "BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY",
    )];
    sqlx::raw_sql("SET client_min_messages = warning")
        .execute(pool)
        .await
        .expect("a setting");
    run_file(pool, &schema.join("common/schema_version.sql"), &replace).await;
    for part in ["common", "main", "state"] {
        run_file(
            pool,
            &schema.join(part).join("full_schemas/72/full.sql.postgres"),
            &replace,
        )
        .await;
    }
    let max: u32 = std::fs::read_to_string(schema.join("__init__.py"))
        .expect("schema/__init__.py")
        .lines()
        .find_map(|line| line.strip_prefix("SCHEMA_VERSION = "))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("SCHEMA_VERSION");
    let mut applied = 0;
    for version in 73..=max {
        let mut files: Vec<PathBuf> = ["common", "main", "state"]
            .iter()
            .map(|part| schema.join(part).join("delta").join(version.to_string()))
            .filter(|dir| dir.is_dir())
            .flat_map(|dir| sorted_entries(&dir))
            .filter(|f| {
                let name = f.file_name().unwrap_or_default().to_string_lossy();
                name.ends_with(".sql") || name.ends_with(".sql.postgres")
            })
            .collect();
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        for file in &files {
            run_file(pool, file, &replace).await;
            applied += 1;
        }
    }
    applied
}
