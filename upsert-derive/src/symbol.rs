//! Every attribute name the derive accepts, defined once (as in `serde_derive`'s `symbol.rs`):
//! the grammar matches paths against these constants, and every message names them.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute name.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Symbol(&'static str);

impl Symbol {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// `#[conflict_key]` (field).
pub const CONFLICT_KEY: Symbol = Symbol("conflict_key");
/// `#[upsert(..)]`, the attribute holding every other key.
pub const UPSERT: Symbol = Symbol("upsert");

// Struct keys.
pub const TABLE: Symbol = Symbol("table");
pub const SCHEMA: Symbol = Symbol("schema");
pub const SKIP_UNCHANGED: Symbol = Symbol("skip_unchanged");
pub const CONSTRAINT: Symbol = Symbol("constraint");
pub const CONFLICT_WHERE: Symbol = Symbol("conflict_where");
pub const UPDATE_WHERE: Symbol = Symbol("update_where");
pub const NULLS_NOT_DISTINCT: Symbol = Symbol("nulls_not_distinct");
pub const PARTITIONED: Symbol = Symbol("partitioned");

// Field keys.
pub const RENAME: Symbol = Symbol("rename");
pub const SQL_TYPE: Symbol = Symbol("sql_type");
pub const COLLATE: Symbol = Symbol("collate");
pub const SKIP: Symbol = Symbol("skip");
pub const INSERT_ONLY: Symbol = Symbol("insert_only");
pub const CREATED_AT: Symbol = Symbol("created_at");
pub const UPDATED_AT: Symbol = Symbol("updated_at");
pub const ADD: Symbol = Symbol("add");
pub const NULLS: Symbol = Symbol("nulls");
pub const GREATEST: Symbol = Symbol("greatest");
pub const LEAST: Symbol = Symbol("least");
pub const COALESCE: Symbol = Symbol("coalesce");
pub const MERGE: Symbol = Symbol("merge");
pub const VERSION: Symbol = Symbol("version");
pub const DEFAULT: Symbol = Symbol("default");
pub const UPDATE_FROM: Symbol = Symbol("update_from");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
