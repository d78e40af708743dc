// Every handler reaches the database through an adaptor inside the application state's
// mutex, and keeps the guard for the whole request: the check and the insert, both made
// through the guarded adaptor, cannot interleave with another request's (the taken id is
// replaced in a loop, a check the audit otherwise reports).
pub async fn create_event(
    State(state): State<Arc<Mutex<ApiState>>>,
    Json(input): Json<EventInput>,
) -> Result<Json<Event>, ApiError> {
    let adaptor = &state.lock().await.adaptor;
    let mut id = generate_id(&input.name);
    while adaptor.get_event(id.clone()).await?.is_some() {
        id = generate_id(&input.name);
    }
    let event = adaptor.create_event(Event { id, name: input.name }).await?;
    Ok(Json(event))
}

impl SqlAdaptor {
    pub async fn get_event(&self, id: String) -> Result<Option<Event>, DbErr> {
        event::Entity::find_by_id(id).one(&self.db).await
    }

    pub async fn create_event(&self, event: Event) -> Result<Event, DbErr> {
        let model = event::ActiveModel {
            id: Set(event.id),
            name: Set(event.name),
        };
        model.insert(&self.db).await
    }
}
