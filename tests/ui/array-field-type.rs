use atomic_upsert::AtomicUpsert;

// `Vec<T>` fields are array columns; an array of arrays is a multi-dimensional array,
// which sqlx does not encode.
#[derive(AtomicUpsert)]
struct Post {
    #[conflict_key]
    id: i64,
    grid: Vec<Vec<i64>>,
}

fn main() {}
