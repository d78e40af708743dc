//! Schema verification's report (public as `atomic_upsert::schema`, see `lib.rs`).

use std::fmt;

pub use upsert_core::verify::{Kind as MismatchKind, Mismatch, Site};

/// Every mismatch found, grouped by struct: one [`StructReport`] for each struct that does
/// not match its table, none for those that do.
///
/// `Display` prints one line per mismatch, each naming the struct, the field and column,
/// what the struct needs, what the table has, and the fix.
///
/// ```
/// use atomic_upsert::schema::{Mismatch, MismatchKind, SchemaReport, Site, StructReport};
///
/// let report = SchemaReport::from(vec![StructReport {
///     name: "Tag",
///     table: "\"tag\"".into(),
///     mismatches: vec![Mismatch {
///         kind: MismatchKind::MissingColumn,
///         site: Site::Field(1),
///         field: Some("color".into()),
///         column: Some("color".into()),
///         needs: "a column to write".into(),
///         has: "no such column".into(),
///         fix: "#[upsert(rename = \"..\")] on the field, or add the column: ALTER TABLE \"tag\" ADD COLUMN \"color\" text;".into(),
///     }],
/// }]);
/// assert_eq!(
///     report.to_string(),
///     "1 schema mismatch:\n  Tag (table \"tag\"): field `color`, column \"color\": needs a column to write; \
///      found no such column; fix: #[upsert(rename = \"..\")] on the field, or add the column: ALTER TABLE \"tag\" ADD COLUMN \"color\" text;"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaReport {
    structs: Vec<StructReport>,
}

/// The mismatches of one struct.
///
/// ```
/// let report = atomic_upsert::schema::StructReport { name: "Tag", table: "\"tag\"".into(), mismatches: vec![] };
/// assert!(report.mismatches.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructReport {
    /// The struct's name.
    pub name: &'static str,
    /// Its table, quoted as the statements write it.
    pub table: String,
    /// Every mismatch, in field order, then the table's and the conflict target's.
    pub mismatches: Vec<Mismatch>,
}

impl SchemaReport {
    /// The structs that mismatch.
    ///
    /// ```
    /// assert!(atomic_upsert::schema::SchemaReport::default().structs().is_empty());
    /// ```
    #[must_use]
    pub fn structs(&self) -> &[StructReport] {
        &self.structs
    }

    /// Every mismatch with its struct's name.
    ///
    /// ```
    /// assert_eq!(atomic_upsert::schema::SchemaReport::default().mismatches().count(), 0);
    /// ```
    pub fn mismatches(&self) -> impl Iterator<Item = (&'static str, &Mismatch)> {
        self.structs
            .iter()
            .flat_map(|s| s.mismatches.iter().map(move |m| (s.name, m)))
    }

    /// Whether nothing mismatches.
    ///
    /// ```
    /// assert!(atomic_upsert::schema::SchemaReport::default().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.structs.iter().all(|s| s.mismatches.is_empty())
    }

    pub(crate) fn extend(&mut self, other: SchemaReport) {
        self.structs.extend(other.structs);
    }
}

/// A mismatch found by a backend's own `verify` (SQLite's, MySQL's), from its parts.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn mismatch(
    kind: MismatchKind,
    site: Site,
    field: Option<&str>,
    column: Option<&str>,
    [needs, has, fix]: [String; 3],
) -> Mismatch {
    Mismatch {
        kind,
        site,
        field: field.map(str::to_owned),
        column: column.map(str::to_owned),
        needs,
        has,
        fix,
    }
}

impl From<Vec<StructReport>> for SchemaReport {
    fn from(structs: Vec<StructReport>) -> Self {
        SchemaReport {
            structs: structs
                .into_iter()
                .filter(|s| !s.mismatches.is_empty())
                .collect(),
        }
    }
}

impl fmt::Display for SchemaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.mismatches().count();
        write!(
            f,
            "{count} schema mismatch{}:",
            if count == 1 { "" } else { "es" }
        )?;
        for s in &self.structs {
            for m in &s.mismatches {
                write!(f, "\n  {} (table {}): {m}", s.name, s.table)?;
            }
        }
        Ok(())
    }
}
