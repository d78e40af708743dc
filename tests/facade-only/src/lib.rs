//! A crate whose only dependency is `atomic-upsert`: no direct sqlx. The derive must
//! compile here, because its generated code names only `::atomic_upsert::__private`.

use atomic_upsert::AtomicUpsert;

/// The seed's auth row, keyed by `id`.
#[derive(AtomicUpsert, Debug, Clone)]
#[upsert(table = "strava_auth")]
pub struct StravaAuth {
    /// The key.
    #[conflict_key]
    pub id: i32,
    /// Strava's athlete id.
    pub athlete_id: i64,
    /// Current access token.
    pub access_token: String,
    /// Current refresh token.
    pub refresh_token: String,
    /// Expiry, in Unix seconds.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::StravaAuth;
    use atomic_upsert::{AtomicUpsert, UpsertOutcome};

    #[tokio::test]
    async fn derive_runs_through_the_facade_alone() {
        let db = upsert_testkit::TestDb::new(1).await;
        // The pool type comes from the facade's re-export.
        let pool: &atomic_upsert::sqlx::PgPool = &db.pool;
        atomic_upsert::sqlx::query(
            "CREATE TABLE strava_auth (id int PRIMARY KEY, athlete_id bigint, access_token text, refresh_token text, expires_at bigint)",
        )
        .execute(pool)
        .await
        .unwrap();
        let mut auth = StravaAuth {
            id: 1,
            athlete_id: 12345,
            access_token: "token".into(),
            refresh_token: "refresh".into(),
            expires_at: 1_735_689_600,
        };
        assert_eq!(auth.upsert(pool).await.unwrap(), UpsertOutcome::Inserted);
        auth.access_token = "token-2".into();
        assert_eq!(auth.upsert(pool).await.unwrap(), UpsertOutcome::Updated);
        let token: String =
            atomic_upsert::sqlx::query_scalar("SELECT access_token FROM strava_auth WHERE id = 1")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(token, "token-2");
        db.finish().await;
    }
}
