#[upsert(table = "parted", partitioned)]
struct Parted {
    #[conflict_key]
    id: i64,
    #[conflict_key]
    part: i32,
    payload: Vec<u8>,
}
