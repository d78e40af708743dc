//! Reserved names: the tables, columns and aliases the statements use besides the user's.
//! The `__` prefix keeps them clear of user columns; each is defined here once, and both
//! the derive (which builds the statements) and the runtime (which creates and drops the
//! staging table) read it from here.
//!
//! ```
//! assert_eq!(upsert_core::names::STAGE_TABLE, "__atomic_upsert_stage");
//! ```

/// The temporary table the bulk `COPY` path loads.
pub const STAGE_TABLE: &str = "__atomic_upsert_stage";
/// The column that records each batch row's position (1-based).
pub const ORD_COLUMN: &str = "__atomic_upsert_ord";

/// Prefix of an array column's NULL flag per row (bulk `UNNEST` path), followed by the
/// column's position among the bound columns.
pub const ARRAY_NULL: &str = "__atomic_upsert_null";
/// Prefix of the CTE that rebuilds an array column's values per row from the flat array of
/// every row's elements (bulk `UNNEST` path), followed by the column's position.
pub const ARRAY_CTE: &str = "__atomic_upsert_arr";
/// The rebuilt array in an [`ARRAY_CTE`].
pub const ARRAY_VALUE: &str = "__atomic_upsert_value";
/// The batch row (1-based) an element of the flat array belongs to, in an [`ARRAY_CTE`].
pub const ARRAY_OWNER: &str = "__atomic_upsert_owner";
/// An element, and its position in the flat array, inside an [`ARRAY_CTE`].
pub const ARRAY_ELEMENT: &str = "__atomic_upsert_element";
/// See [`ARRAY_ELEMENT`].
pub const ARRAY_POSITION: &str = "__atomic_upsert_position";

/// The batch rows with their ordinal (bulk).
pub const INPUT: &str = "__input";
/// `UNNEST`'s alias (bulk).
pub const UNNEST: &str = "__u";
/// The rows flagged with whether they pass the version guard (bulk).
pub const RANKED: &str = "__ranked";
/// The flag of [`RANKED`]: the row would have applied one by one.
pub const APPLIES: &str = "__applies";
/// One folded row per key (bulk), and its alias in the guarded counts.
pub const DEDUP: &str = "__dedup";
/// The batch rows, in the per-row outcomes: named as the `DO UPDATE` clause names the
/// incoming row, so that the "would change" comparison of `skip_unchanged` reads them.
pub const ROWS_ALIAS: &str = "excluded";
/// Each row's group's first ordinal, in the per-row outcomes.
pub const FIRST: &str = "__first";
/// SQLite's chunk: its distinct conflict keys.
pub const KEYS: &str = "__keys";
/// [`DEDUP`]'s alias in the guarded counts.
pub const DEDUP_ALIAS: &str = "__d";
/// The number of a key's batch rows that applied (bulk, guarded).
pub const APPLIED: &str = "__applied";
/// The rows the write returned (single-row with two guards, and bulk).
pub const WRITTEN: &str = "__written";
/// [`WRITTEN`]'s alias in the guarded counts.
pub const WRITTEN_ALIAS: &str = "__w";
/// The returned insert flag (single-row with two guards, and unguarded bulk).
pub const INSERTED: &str = "inserted";
/// The returned insert flag of guarded bulk statements.
pub const INSERTED_GUARDED: &str = "__inserted";
/// The incoming row's alias in the single-row "unchanged" probe.
pub const EXCLUDED: &str = "excluded";
/// A batch's sent values by conflict key, for the columns an update reads them for
/// (`default`, `update_from = "sent"`): a CTE of one jsonb object (bulk).
pub const SENT: &str = "__atomic_upsert_sent";
/// [`SENT`]'s one column.
pub const SENT_OBJECT: &str = "__atomic_upsert_sent_by_key";
/// A batch applied in rounds (a table whose CHECK constraints or row triggers must see
/// every row): every staged row, kept while the staging table holds one round at a time.
pub const ALL_ROWS: &str = "__atomic_upsert_all";
/// Each staged row's round: its place among its key's rows (1 for a key's first row).
pub const ROUNDS: &str = "__atomic_upsert_rounds";
/// [`ROUNDS`]' round column.
pub const ROUND: &str = "__atomic_upsert_round";
/// The batch's `merge` objects, in order (bulk).
pub const MERGE_ARRAY: &str = "__a";
/// The index in [`MERGE_ARRAY`] (bulk).
pub const MERGE_INDEX: &str = "i";
/// An object of [`MERGE_ARRAY`] (bulk).
pub const MERGE_OBJECT: &str = "o";
/// The key/value pairs of one merged object (bulk).
pub const MERGE_ENTRY: &str = "__e";
