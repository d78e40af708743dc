//! What SQLite cannot express.

use crate::model::{ConflictTarget, Model, NullKeys, Unwritten};

/// What SQLite has no syntax or storage for, and which attribute asks for it. The derive
/// emits no SQLite statements for such a model; its SQLite impl instead requires the
/// runtime's marker trait named by [`Gap::marker`], which is never implemented, so a
/// call on SQLite fails to compile with that trait's message, at the attribute.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
/// use upsert_core::sqlite::Gap;
/// let model = Model::new(
///     Table { schema: Some("app"), name: "t" },
///     ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(Gap::of(&model), Some(Gap::Schema));
/// assert_eq!(Gap::Schema.marker(), "SqliteHasNoSchemas");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// `#[upsert(schema)]`.
    Schema,
    /// `#[upsert(constraint)]`.
    Constraint,
    /// `#[upsert(nulls_not_distinct)]`.
    NullsNotDistinct,
    /// `#[upsert(sql_type)]`.
    SqlType,
    /// An array (`Vec<T>`) field.
    Array,
    /// `version` (or `update_where`) together with `skip_unchanged`.
    GuardWithSkipUnchanged,
    /// `#[upsert(default = "..")]` or `#[upsert(update_from = "sent")]`: an update that
    /// reads the value sent, which SQLite's multi-row statements cannot reach.
    SentValue,
}

impl Gap {
    /// The first gap of `model`, if any.
    #[must_use]
    pub fn of(model: &Model) -> Option<Self> {
        if model.table.schema.is_some() {
            Some(Self::Schema)
        } else if let ConflictTarget::Constraint(_) = model.target {
            Some(Self::Constraint)
        } else if model.null_keys == NullKeys::NotDistinct {
            Some(Self::NullsNotDistinct)
        } else if model.columns.iter().any(|c| c.cast.is_some()) {
            Some(Self::SqlType)
        } else if model.columns.iter().any(|c| c.array) {
            Some(Self::Array)
        } else if model.unwritten() == Unwritten::Told {
            Some(Self::GuardWithSkipUnchanged)
        } else if model.reads_sent() || model.columns.iter().any(|c| c.default.is_some()) {
            Some(Self::SentValue)
        } else {
            None
        }
    }

    /// The runtime's marker trait (in `__private`), never implemented, whose diagnostic
    /// says what SQLite lacks and what to do: the one place that text is written.
    #[must_use]
    pub fn marker(self) -> &'static str {
        match self {
            Self::Schema => "SqliteHasNoSchemas",
            Self::Constraint => "SqliteHasNoConstraintTargets",
            Self::NullsNotDistinct => "SqliteHasNoNullsNotDistinct",
            Self::SqlType => "SqliteHasNoCasts",
            Self::Array => "SqliteHasNoArrays",
            Self::GuardWithSkipUnchanged => "SqliteCannotTellSkippedFromUnchanged",
            Self::SentValue => "SqliteCannotReadTheSentValue",
        }
    }
}
