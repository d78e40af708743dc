use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct RoomStats {
    #[conflict_key]
    room: i32,
    #[upsert(add, nulls = "ignore")]
    joined: Option<i64>,
}

fn main() {}
