// A type whose atomic-upsert feature (`uuid`) is off in this build: one error at the type,
// and the stub impls beside it.
#[upsert(table = "sessions")]
struct Session {
    #[conflict_key]
    id: uuid::Uuid,
    user_name: String,
}
