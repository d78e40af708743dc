use atomic_upsert::AtomicUpsert;

// `email` has a case-insensitive (nondeterministic) collation.
#[derive(AtomicUpsert)]
struct CiEmails {
    #[conflict_key]
    email: String,
    name: String,
}

fn main() {}
