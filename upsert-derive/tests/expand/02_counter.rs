#[upsert(schema = "metrics", table = "page_views")]
struct PageViews {
    #[conflict_key]
    page: i64,
    #[conflict_key]
    day: i32,
    #[upsert(add)]
    views: i64,
    #[upsert(greatest)]
    peak: Option<i32>,
    #[upsert(coalesce)]
    referrer: Option<String>,
    #[upsert(insert_only)]
    first_seen: i64,
}
