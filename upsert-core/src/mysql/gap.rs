//! What MySQL and MariaDB cannot express.

use crate::model::{ConflictTarget, Model, NullKeys, Unwritten};
use crate::role::{Strategy, Update};

/// What MySQL has no syntax for, and which attribute asks for it. As for SQLite
/// ([`crate::sqlite::Gap`]), the derive then emits no MySQL statements and a call on MySQL
/// fails to compile with the message of the runtime's marker trait named by
/// [`Gap::marker`].
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::mysql::Gap;
/// let model = Model::new(
///     Table { schema: None, name: "t" },
///     ConflictTarget::Keys { predicate: Some("deleted_at IS NULL") },
///     [("k", Role::Key), ("v", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(Gap::of(&model), Some(Gap::PartialIndex));
/// assert_eq!(Gap::PartialIndex.marker(), "MySqlHasNoPartialIndexes");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// `#[upsert(constraint)]`: MySQL names no conflict target (any unique index fires).
    Constraint,
    /// `#[upsert(conflict_where)]`: MySQL has no partial indexes.
    PartialIndex,
    /// `#[upsert(nulls_not_distinct)]`.
    NullsNotDistinct,
    /// `#[upsert(sql_type)]` or `#[upsert(collate)]`: a batch applies its rows in order on
    /// MySQL, with the column's own comparison, so there is nothing to cast.
    Cast,
    /// An array (`Vec<T>`) field.
    Array,
    /// `#[upsert(merge)]`: MySQL's `JSON_MERGE_PATCH` merges deeply and drops null keys,
    /// unlike PostgreSQL's `||`.
    Merge,
    /// `#[upsert(update_where)]`: a raw predicate written for PostgreSQL.
    UpdateWhere,
    /// `version` together with `skip_unchanged`.
    GuardWithSkipUnchanged,
    /// `#[upsert(default = "..")]` or `#[upsert(update_from = "sent")]`.
    SentValue,
}

impl Gap {
    /// The first gap of `model`, if any.
    #[must_use]
    pub fn of(model: &Model) -> Option<Self> {
        let columns = &model.columns;
        if let ConflictTarget::Constraint(_) = model.target {
            Some(Self::Constraint)
        } else if let ConflictTarget::Keys { predicate: Some(_) } = model.target {
            Some(Self::PartialIndex)
        } else if model.null_keys == NullKeys::NotDistinct {
            Some(Self::NullsNotDistinct)
        } else if columns
            .iter()
            .any(|c| c.cast.is_some() || c.collate.is_some())
        {
            Some(Self::Cast)
        } else if columns.iter().any(|c| c.array) {
            Some(Self::Array)
        } else if columns
            .iter()
            .any(|c| c.update == Update::Combine(Strategy::Merge))
        {
            Some(Self::Merge)
        } else if model.guard.update_where.is_some() {
            Some(Self::UpdateWhere)
        } else if model.unwritten() == Unwritten::Told {
            Some(Self::GuardWithSkipUnchanged)
        } else if model.reads_sent() || columns.iter().any(|c| c.default.is_some()) {
            Some(Self::SentValue)
        } else {
            None
        }
    }

    /// The runtime's marker trait (in `__private`), never implemented, whose diagnostic
    /// says what MySQL lacks and what to do: the one place that text is written.
    #[must_use]
    pub fn marker(self) -> &'static str {
        match self {
            Self::Constraint => "MySqlHasNoConstraintTargets",
            Self::PartialIndex => "MySqlHasNoPartialIndexes",
            Self::NullsNotDistinct => "MySqlHasNoNullsNotDistinct",
            Self::Cast => "MySqlHasNoCasts",
            Self::Array => "MySqlHasNoArrays",
            Self::Merge => "MySqlHasNoShallowMerge",
            Self::UpdateWhere => "MySqlCannotReadUpdateWhere",
            Self::GuardWithSkipUnchanged => "MySqlCannotTellSkippedFromUnchanged",
            Self::SentValue => "MySqlCannotReadTheSentValue",
        }
    }
}
