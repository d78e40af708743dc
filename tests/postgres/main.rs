//! Integration tests against a real PostgreSQL: `DATABASE_URL`, or a throwaway server
//! that `upsert-testkit` starts (and removes) itself. Each test owns a schema.

mod arrays;
mod attributes;
mod bulk;
mod cancel;
mod defaults;
mod errors;
mod faults;
mod macro_rules;
mod nullable_counters;
mod partitioned;
mod presorted;
mod race;
mod reliability;
mod single;
mod strategies;
mod strategies_bulk;
mod strategies_race;
mod stream;
mod support;
mod verify;
mod watched;
mod writer;
