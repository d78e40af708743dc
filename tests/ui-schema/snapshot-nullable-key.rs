use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Slots {
    #[conflict_key]
    team: i64,
    #[conflict_key]
    slot: Option<i32>,
    player: String,
}

fn main() {}
