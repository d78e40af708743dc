//! What a field does in the statements: its [`Role`] (resolved once from its attributes),
//! the [`Strategy`] of a combined column, and what the column receives on insert
//! ([`Insert`]) and on conflict ([`Update`]): [`Role::column`], the one mapping from roles
//! to SQL.

/// A conflict strategy, given by a field attribute such as `#[upsert(add)]`.
///
/// ```
/// use upsert_core::Strategy;
/// assert_eq!(Strategy::Add.type_check(), Some("assert_numeric"));
/// assert_eq!(Strategy::Greatest.type_check(), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Strategy {
    /// `stored + incoming`: a counter (`NOT NULL` column, non-`Option` field).
    Add,
    /// `stored + incoming` where NULL + n is NULL (SQL's rule, Diesel's `col + n`):
    /// `#[upsert(add, nulls = "propagate")]`, a nullable counter.
    AddNullPropagates,
    /// `COALESCE(stored, 0) + COALESCE(incoming, 0)`, a NULL counted as 0:
    /// `#[upsert(add, nulls = "zero")]`, a nullable counter. An insert stores the value as sent.
    AddNullAsZero,
    /// `GREATEST(stored, incoming)`: a high-water mark.
    Greatest,
    /// `LEAST(stored, incoming)`: a low-water mark.
    Least,
    /// `COALESCE(incoming, stored)`: a NULL never overwrites.
    Coalesce,
    /// jsonb `stored || incoming`, keeping either side when the other is NULL.
    Merge,
}

/// How a field takes part in the statements: resolved once from its attributes.
///
/// [`Role::column`] is the one mapping from roles to SQL; the derive's checks read it too.
///
/// ```
/// use upsert_core::{Insert, Role, Strategy, Update};
///
/// assert_eq!(Role::Key.column(), Some((Insert::Bind, Update::Key)));
/// assert_eq!(Role::Skip.column(), None);
/// assert!(Role::Combine(Strategy::Add).is_compared());
/// assert!(!Role::UpdatedAt.is_compared()); // a timestamp always moves
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// `#[conflict_key]`: bound, part of the conflict target, never updated.
    Key,
    /// A plain field: bound, and replaced on conflict.
    Write,
    /// `#[upsert(skip)]`: not in the statement.
    Skip,
    /// `#[upsert(insert_only)]`: bound, never updated.
    InsertOnly,
    /// `#[upsert(created_at)]`: `now()` on insert, never updated.
    CreatedAt,
    /// `#[upsert(updated_at)]`: `now()` on insert and on update.
    UpdatedAt,
    /// `#[upsert(version)]`: replaced, and the update happens only when it grows.
    Version,
    /// `#[upsert(default = "..")]` on a plain `Option` field: `None` lets the column's
    /// default apply on insert and leaves the stored value on update; `Some` is written.
    Defaulted,
    /// A conflict strategy (`#[upsert(add)]`, ..): stored and incoming values combined.
    Combine(Strategy),
}

impl Role {
    /// What the column receives on insert and on conflict; `None` when the field is not
    /// in the statement at all.
    #[must_use]
    pub fn column(self) -> Option<(Insert, Update)> {
        Some(match self {
            Role::Skip => return None,
            Role::Key => (Insert::Bind, Update::Key),
            Role::Write | Role::Version => (Insert::Bind, Update::Replace),
            Role::Defaulted => (Insert::Bind, Update::ReplaceIfSent),
            Role::InsertOnly => (Insert::Bind, Update::Keep),
            Role::CreatedAt => (Insert::Now, Update::Keep),
            Role::UpdatedAt => (Insert::Now, Update::Now),
            Role::Combine(strategy) => (Insert::Bind, Update::Combine(strategy)),
        })
    }

    /// Whether the field's value is sent as a parameter.
    #[must_use]
    pub fn is_bound(self) -> bool {
        matches!(self.column(), Some((Insert::Bind, _)))
    }

    /// Whether a conflict assigns the column (`DO UPDATE SET`).
    #[must_use]
    pub fn is_updated(self) -> bool {
        self.column().is_some_and(|(_, update)| update.is_set())
    }

    /// Whether `skip_unchanged` compares the column.
    #[must_use]
    pub fn is_compared(self) -> bool {
        self.column()
            .is_some_and(|(_, update)| update.is_compared())
    }
}

/// What a column receives when the row is inserted.
///
/// ```
/// use upsert_core::{Insert, Role};
/// assert_eq!(Role::CreatedAt.column().map(|(insert, _)| insert), Some(Insert::Now));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Insert {
    /// The next bound parameter.
    Bind,
    /// The server's current time.
    Now,
}

/// What a column receives when the row already exists.
///
/// ```
/// use upsert_core::{Role, Update};
/// assert_eq!(Role::InsertOnly.column().map(|(_, update)| update), Some(Update::Keep));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Update {
    /// Part of the conflict target.
    Key,
    /// Left as stored.
    Keep,
    /// Replaced by the incoming value (`EXCLUDED.c`).
    Replace,
    /// Replaced by the incoming value when one was sent (`Some`), else left as stored
    /// (`#[upsert(default = "..")]`).
    ReplaceIfSent,
    /// Set to the server's current time.
    Now,
    /// Stored and incoming values combined by a strategy.
    Combine(Strategy),
}

impl Update {
    /// Whether the column is assigned in `DO UPDATE SET`.
    #[must_use]
    pub fn is_set(self) -> bool {
        !matches!(self, Update::Key | Update::Keep)
    }

    /// Whether, after an update, the column may still hold a NULL stored before (by another
    /// writer), which `upsert_returning` then reads back: a column left as stored, a
    /// counter (`NULL + n` is NULL), `coalesce` of two NULLs. `greatest`, `least` and `merge`
    /// take the incoming value over a stored NULL; a replaced column holds what was sent.
    ///
    /// ```
    /// use upsert_core::{Strategy, Update};
    /// assert!(Update::Keep.may_keep_null());
    /// assert!(Update::Combine(Strategy::Add).may_keep_null());
    /// assert!(!Update::Replace.may_keep_null());
    /// assert!(!Update::Combine(Strategy::Greatest).may_keep_null());
    /// ```
    #[must_use]
    pub fn may_keep_null(self) -> bool {
        matches!(
            self,
            Update::Keep
                | Update::ReplaceIfSent
                | Update::Combine(Strategy::Add | Strategy::AddNullPropagates | Strategy::Coalesce)
        )
    }

    /// Whether `skip_unchanged` compares the column (a timestamp always moves).
    #[must_use]
    pub fn is_compared(self) -> bool {
        self.is_set() && self != Update::Now
    }
}
