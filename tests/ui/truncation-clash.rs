use atomic_upsert::AtomicUpsert;

#[derive(AtomicUpsert)]
struct Measurement {
    #[conflict_key]
    id: i64,
    average_heart_rate_during_the_warm_up_phase_of_the_morning_session_a: i32,
    average_heart_rate_during_the_warm_up_phase_of_the_morning_session_b: i32,
}

fn main() {}
