use atomic_upsert::AtomicUpsert;

// A type of the user's own that shares a name with a feature-gated one (`Decimal`), written
// with its path, is bounded as any other type: with `rust_decimal` off it compiles.
mod money {
    pub type Decimal = f64;
}

#[derive(AtomicUpsert)]
struct Price {
    #[conflict_key]
    sku: String,
    amount: money::Decimal,
    history: Vec<crate::money::Decimal>,
}

fn main() {}
