//! Identifiers: PostgreSQL's truncation, predicates compared loosely, and the near
//! column name a `rename` fix suggests.

use crate::schema::TableInfo;

/// PostgreSQL truncates identifiers to this many bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// `name` as PostgreSQL stores it: at most 63 bytes, cut on a character boundary.
///
/// ```
/// let long = "x".repeat(70);
/// assert_eq!(upsert_core::verify::truncate(&long).len(), 63);
/// assert_eq!(upsert_core::verify::truncate("é".repeat(40).as_str()).len(), 62);
/// ```
#[must_use]
pub fn truncate(name: &str) -> &str {
    truncate_to(name, MAX_IDENTIFIER_BYTES)
}

pub(super) fn truncate_to(name: &str, bytes: usize) -> &str {
    if name.len() <= bytes {
        return name;
    }
    let mut end = bytes;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A predicate reduced for comparison: no whitespace, parentheses or double quotes, lower
/// case (PostgreSQL prints `NOT deleted` back as `(NOT deleted)`).
#[must_use]
pub fn normalize_predicate(predicate: &str) -> String {
    predicate
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Pairs of fields whose columns PostgreSQL would truncate to the same 63 bytes: each as
/// `(first field index, second field index)`.
///
/// ```
/// let a = format!("{}_a", "x".repeat(63));
/// let b = format!("{}_b", "x".repeat(63));
/// assert_eq!(upsert_core::verify::truncation_clashes(&[&a, "y", &b]), vec![(0, 2)]);
/// ```
#[must_use]
pub fn truncation_clashes(columns: &[&str]) -> Vec<(usize, usize)> {
    let mut clashes = Vec::new();
    for (j, later) in columns.iter().enumerate() {
        if let Some(i) = columns[..j]
            .iter()
            .position(|earlier| earlier != later && truncate(earlier) == truncate(later))
        {
            clashes.push((i, j));
        }
    }
    clashes
}

/// A name without case or underscores, to suggest a `rename`.
/// The table's column nearest to `wanted`, if one is near enough to be a misspelling: the
/// same letters but for case and underscores, or at most 2 edits away (1 for names of up to
/// 4 characters).
///
/// ```
/// use upsert_core::schema::{ColumnInfo, RelKind, TableInfo};
/// use upsert_core::verify::near_column;
/// let mut t = TableInfo::new("public", "t", RelKind::Table);
/// t.columns.push(ColumnInfo::new("total_km", "float8", "float8", 701, 'N'));
/// t.columns.push(ColumnInfo::new("published", "timestamp", "timestamp", 1114, 'D'));
/// assert_eq!(near_column(&t, "totalkm"), Some("total_km"));
/// assert_eq!(near_column(&t, "pubished"), Some("published"));
/// assert_eq!(near_column(&t, "color"), None);
/// ```
#[must_use]
pub fn near_column<'t>(table: &'t TableInfo, wanted: &str) -> Option<&'t str> {
    let budget = if wanted.chars().count() <= 4 { 1 } else { 2 };
    table
        .columns
        .iter()
        .map(|c| {
            let distance = if loose(&c.name) == loose(wanted) {
                0
            } else {
                edit_distance(&c.name.to_lowercase(), &wanted.to_lowercase())
            };
            (distance, c.name.as_str())
        })
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance, by characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

pub(super) fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}
