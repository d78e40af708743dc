use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::PgPool;
// The README's path for a feature's type. With the `uuid` and `chrono` features off, the
// imports still resolve (to stand-ins) and each field gets the one error that names its
// feature; the calls below add none.
use atomic_upsert::sqlx::types::Uuid;
use atomic_upsert::sqlx::types::chrono::{DateTime, Utc};

#[derive(AtomicUpsert)]
struct Session {
    #[conflict_key]
    id: Uuid,
    started: Option<DateTime<Utc>>,
}

async fn save(pool: &PgPool, session: Session) -> Result<(), atomic_upsert::Error> {
    session.upsert(pool).await?;
    Session::upsert_many(pool, &[session]).await?;
    Ok(())
}

fn main() {
    let _ = save;
}
