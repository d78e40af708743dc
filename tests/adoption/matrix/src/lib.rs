//! The conformance matrix lives in `tests/matrix.rs`.
