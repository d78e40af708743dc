//! Structs that match the snapshot compile, on every kind of target.
use atomic_upsert::AtomicUpsert;
use atomic_upsert::sqlx::types::Json;

#[derive(AtomicUpsert)]
#[allow(dead_code)]
struct StravaStats {
    #[conflict_key]
    stats_type: String,
    #[upsert(merge)]
    data: Json<serde_json::Value>,
    #[upsert(updated_at)]
    updated_at: (),
}

#[derive(AtomicUpsert)]
#[upsert(table = "users", conflict_where = "NOT deleted")]
#[allow(dead_code)]
struct User<'a> {
    #[conflict_key]
    email: &'a str,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(constraint = "auth_pkey")]
#[allow(dead_code)]
struct Auth {
    #[conflict_key]
    id: i32,
    token: String,
}

#[derive(AtomicUpsert)]
#[allow(dead_code)]
struct Doubled {
    #[conflict_key]
    id: i64,
    #[upsert(skip)]
    twice: Option<i64>,
}

#[derive(AtomicUpsert)]
#[allow(dead_code)]
struct CiEmails {
    #[conflict_key]
    #[upsert(collate = "case_insensitive")]
    email: String,
    name: String,
}

#[derive(AtomicUpsert)]
#[upsert(partitioned)]
#[allow(dead_code)]
struct Readings {
    #[conflict_key]
    sensor: i64,
    #[conflict_key]
    day: i32,
    value: f64,
}

/// `None`: the column's DEFAULT (as the catalog prints it: `false`) on insert, the stored
/// value kept on update.
#[derive(AtomicUpsert)]
#[upsert(table = "handles")]
#[allow(dead_code)]
struct Handle {
    #[conflict_key]
    handle: String,
    owner: i64,
    #[upsert(default = "FALSE")]
    retired: Option<bool>,
}

fn main() {}
