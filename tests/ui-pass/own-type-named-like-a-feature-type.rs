use atomic_upsert::AtomicUpsert;

// A type of the user's own that shares a name with a feature-gated one (`Decimal`) and can
// be sent raises no feature error: the gate checks the feature only when the type fails.
type Decimal = f64;

#[derive(AtomicUpsert)]
struct Price {
    #[conflict_key]
    sku: String,
    amount: Decimal,
    history: Vec<Decimal>,
}

fn main() {}
