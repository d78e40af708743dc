use atomic_upsert::AtomicUpsert;

// `seats_seat_key` is DEFERRABLE: ON CONFLICT cannot use it as its arbiter.
#[derive(AtomicUpsert)]
#[upsert(table = "seats")]
struct Seat {
    #[conflict_key]
    seat: i32,
    holder: String,
}

fn main() {}
