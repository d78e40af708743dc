use atomic_upsert::AtomicUpsert;

// The derive knows a type only by its name: a bare `Decimal` is taken for rust_decimal's, so
// a newcomer without the feature gets one error naming it. A type of one's own with that
// name is written with its path (`money::Decimal`, see tests/ui-pass), as the note says.
type Decimal = f64;

#[derive(AtomicUpsert)]
struct Price {
    #[conflict_key]
    sku: String,
    amount: Decimal,
}

fn main() {}
