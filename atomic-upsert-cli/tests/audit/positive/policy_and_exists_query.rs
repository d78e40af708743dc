// A policy refuses a second canonical title (`data.canonical && has_canonical(..)?`, the
// read in a query kept in a variable and tested with `select(exists(query))`); the caller
// runs the policy with `?`, then inserts. Another function of the crate named `create`
// takes an advisory lock for its own check: that lock is not this `create`'s.
fn has_canonical_title(db: &PgPool, work_id: &Uuid) -> ThothResult<bool> {
    let mut connection = db.get()?;
    let query = work_title::table
        .filter(work_title::work_id.eq(work_id))
        .filter(work_title::canonical.eq(true));
    let result: bool = select(exists(query)).get_result(&mut connection)?;
    Ok(result)
}

impl CreatePolicy<NewTitle> for TitlePolicy {
    fn can_create(ctx: &Context, data: &NewTitle) -> ThothResult<()> {
        if data.canonical && has_canonical_title(&ctx.db, &data.work_id)? {
            return Err(ThothError::CanonicalTitleExistsError);
        }
        Ok(())
    }
}

impl Title {
    fn create(db: &PgPool, data: &NewTitle) -> ThothResult<Title> {
        let mut connection = db.get()?;
        diesel::insert_into(work_title::table)
            .values(data)
            .get_result::<Title>(&mut connection)
            .map_err(Into::into)
    }
}

impl WorkRelation {
    fn create(db: &PgPool, data: &NewWorkRelation) -> ThothResult<WorkRelation> {
        let mut connection = db.get()?;
        connection.transaction(|conn| {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)").execute(conn)?;
            let next: i32 = work_relation::table
                .filter(work_relation::work_id.eq(data.work_id))
                .select(max(work_relation::ordinal))
                .first(conn)?;
            diesel::insert_into(work_relation::table)
                .values((data, work_relation::ordinal.eq(next + 1)))
                .get_result(conn)
        })
    }
}

fn create_title(context: &Context, data: NewTitle) -> FieldResult<Title> {
    TitlePolicy::can_create(context, &data)?; // READ
    Title::create(&context.db, &data).map_err(Into::into) // WRITE
}
