use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::postgres::types::PgInterval;

// A PostgreSQL-only column type: fine on PostgreSQL, no SQLite form.
#[derive(AtomicUpsert)]
struct Timer {
    #[conflict_key]
    id: i64,
    every: PgInterval,
}

async fn run(lite: atomic_upsert::sqlx::SqlitePool) {
    let timer = Timer { id: 1, every: PgInterval { months: 0, days: 1, microseconds: 0 } };
    let _ = timer.upsert(&lite).await;
}

fn main() {
    let _ = run;
}
