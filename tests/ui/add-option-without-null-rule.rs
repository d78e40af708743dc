use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct RoomStats {
    #[conflict_key]
    room: i32,
    #[upsert(add)]
    joined: Option<i64>,
}

fn main() {}
