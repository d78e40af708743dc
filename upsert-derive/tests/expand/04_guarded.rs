#[upsert(table = "listing", skip_unchanged, update_where = "NOT listing.locked")]
struct Listing {
    #[conflict_key]
    #[upsert(sql_type = "citext", collate = "ci")]
    slug: String,
    title: String,
    #[upsert(rename = "price_cents")]
    price: i64,
    #[upsert(skip)]
    cached: String,
}
