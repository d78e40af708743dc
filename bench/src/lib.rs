//! Nothing here: the suite is `benches/upsert/` (`cargo bench -p atomic-upsert-bench --bench upsert`).
