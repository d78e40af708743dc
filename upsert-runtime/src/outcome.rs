//! What a single-row statement did.

/// What one `upsert` or `insert_or_ignore` did to its row, read from the same statement
/// that wrote it (no second round trip, no guessing).
///
/// ```
/// use atomic_upsert::UpsertOutcome;
///
/// let outcome = UpsertOutcome::Inserted;
/// assert!(outcome.is_inserted());
/// assert!(outcome.wrote());
/// assert!(!UpsertOutcome::Skipped.wrote());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpsertOutcome {
    /// No row had the conflict key: a new row was inserted.
    Inserted,
    /// A row with the conflict key existed and was updated.
    Updated,
    /// A row with the conflict key existed and nothing was written: `insert_or_ignore`
    /// found it, or the struct has no column to update (every field is a key or
    /// `insert_only`), or a `version`/`update_where` guard held the row back.
    Skipped,
    /// A row with the conflict key existed and already held every value
    /// (`#[upsert(skip_unchanged)]`): nothing was written, `updated_at` did not move.
    Unchanged,
}

/// Whether [`insert_or_get`](crate::AtomicUpsert::insert_or_get) inserted the row or found
/// it.
///
/// ```
/// use atomic_upsert::Obtained;
/// assert_ne!(Obtained::Inserted, Obtained::Existing);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Obtained {
    /// No row had the key: this call inserted it.
    Inserted,
    /// A row had the key; it was read, not written.
    Existing,
}

impl UpsertOutcome {
    /// `true` for [`UpsertOutcome::Inserted`].
    ///
    /// ```
    /// assert!(atomic_upsert::UpsertOutcome::Inserted.is_inserted());
    /// ```
    #[must_use]
    pub fn is_inserted(self) -> bool {
        self == Self::Inserted
    }

    /// `true` for [`UpsertOutcome::Updated`].
    ///
    /// ```
    /// assert!(atomic_upsert::UpsertOutcome::Updated.is_updated());
    /// ```
    #[must_use]
    pub fn is_updated(self) -> bool {
        self == Self::Updated
    }

    /// `true` when the statement wrote the row (inserted or updated it).
    ///
    /// ```
    /// assert!(atomic_upsert::UpsertOutcome::Updated.wrote());
    /// ```
    #[must_use]
    pub fn wrote(self) -> bool {
        matches!(self, Self::Inserted | Self::Updated)
    }
}

/// What one `upsert_many` did, counted as if its rows had been applied one by one, in
/// order: a key that appears three times in a new batch counts one insert and two updates.
///
/// ```
/// use atomic_upsert::BatchOutcome;
///
/// let outcome = BatchOutcome { inserted: 2, updated: 1, skipped: 0 };
/// assert_eq!(outcome.total(), 3);
/// assert_eq!(BatchOutcome::default().total(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BatchOutcome {
    /// Rows that inserted a new key.
    pub inserted: u64,
    /// Rows that updated an existing key (including a key inserted earlier in the batch).
    pub updated: u64,
    /// Rows that wrote nothing: the key existed and there was nothing to update, a guard
    /// held it back (a stale `version`, a false `update_where`), or `skip_unchanged` found
    /// it unchanged.
    pub skipped: u64,
}

impl BatchOutcome {
    /// `inserted + updated + skipped`: the number of rows in the batch.
    ///
    /// ```
    /// # use atomic_upsert::BatchOutcome;
    /// assert_eq!(BatchOutcome { inserted: 1, updated: 0, skipped: 4 }.total(), 5);
    /// ```
    #[must_use]
    pub fn total(&self) -> u64 {
        self.inserted + self.updated + self.skipped
    }
}

impl UpsertOutcome {
    /// The outcome of a batch row, from its code (`upsert_core::postgres::bulk::outcome_code`).
    pub(crate) fn from_code(code: i16) -> Self {
        use upsert_core::postgres::bulk::outcome_code;
        match code {
            outcome_code::INSERTED => UpsertOutcome::Inserted,
            outcome_code::UPDATED => UpsertOutcome::Updated,
            outcome_code::UNCHANGED => UpsertOutcome::Unchanged,
            _ => UpsertOutcome::Skipped,
        }
    }
}

impl BatchOutcome {
    /// The counts of per-row outcomes (`Unchanged` counts as skipped).
    pub(crate) fn of(outcomes: &[UpsertOutcome]) -> Self {
        let mut counts = BatchOutcome::default();
        for outcome in outcomes {
            match outcome {
                UpsertOutcome::Inserted => counts.inserted += 1,
                UpsertOutcome::Updated => counts.updated += 1,
                UpsertOutcome::Skipped | UpsertOutcome::Unchanged => counts.skipped += 1,
            }
        }
        counts
    }
}
