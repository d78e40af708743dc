use atomic_upsert::AtomicUpsert;

// One mistake (an unknown attribute key), one error: the calls below, on every backend the
// build has, raise nothing more (the derive gives the struct stub impls beside its error).
#[derive(AtomicUpsert, Debug)]
#[upsert(tabel = "users")]
struct User {
    #[conflict_key]
    id: i64,
    name: String,
}

async fn on_postgres(pool: atomic_upsert::sqlx::PgPool, user: User) {
    let _ = user.upsert(&pool).await;
    let _ = user.upsert_returning(&pool).await;
    let _ = User::upsert_many(&pool, &[]).await;
}

#[cfg(feature = "sqlite")]
async fn on_sqlite(pool: atomic_upsert::sqlx::SqlitePool, user: User) {
    let _ = user.upsert(&pool).await;
    let _ = user.upsert_returning(&pool).await;
    let _ = User::upsert_many(&pool, &[]).await;
}

#[cfg(feature = "mysql")]
async fn on_mysql(pool: atomic_upsert::sqlx::MySqlPool, user: User) {
    let _ = user.upsert(&pool).await;
    let _ = user.upsert_returning(&pool).await;
    let _ = User::upsert_many(&pool, &[]).await;
}

fn main() {
    let _ = on_postgres;
    #[cfg(feature = "sqlite")]
    let _ = on_sqlite;
    #[cfg(feature = "mysql")]
    let _ = on_mysql;
}
