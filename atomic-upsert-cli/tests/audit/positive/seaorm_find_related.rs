// A candidate's parents, read through the relation from the candidate's model; a missing
// one is created: two submissions at once both create the candidate's first parent.
impl Query {
    pub async fn find_candidate_parents(
        db: &DbConn,
        candidate: &candidate::Model,
    ) -> Result<Vec<parent::Model>, DbErr> {
        candidate.find_related(parent::Entity).all(db).await
    }
}

impl ParentService {
    pub async fn create(db: &DbConn, candidate_id: i32) -> Result<parent::Model, DbErr> {
        parent::ActiveModel {
            candidate_id: Set(candidate_id),
            ..Default::default()
        }
        .insert(db)
        .await
    }

    pub async fn add_parents(db: &DbConn, candidate: &candidate::Model, count: usize) -> Result<(), DbErr> {
        let found = Query::find_candidate_parents(db, candidate).await?; // READ
        for i in 0..count {
            match found.get(i) {
                Some(_) => {}
                None => {
                    ParentService::create(db, candidate.id).await?; // WRITE
                }
            }
        }
        Ok(())
    }
}
