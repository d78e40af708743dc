//! The layout of the one row of counts every PostgreSQL bulk statement returns.

use crate::model::{Model, Tally};

/// The layout of the one row of counts a bulk statement returns, and how it turns into
/// per-row outcomes. The statement writes the columns ([`upsert_many`](super::bulk::upsert_many)) and the runtime
/// reads them ([`Counts::tally`]) from this one definition.
///
/// ```
/// use upsert_core::Tally;
/// use upsert_core::postgres::counts::Counts;
///
/// // `a, b, a` on an empty table: 2 distinct keys, both inserted.
/// let tally = Counts::Keys { updates: true }.tally(3, [2, 2, 0]);
/// assert_eq!(tally, Tally { inserted: 2, updated: 1, skipped: 0 });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Counts {
    /// No guard: `(distinct keys, inserted, updated)`.
    Keys {
        /// Whether a conflict updates anything (else a key's later rows are skipped).
        updates: bool,
    },
    /// A guard may leave keys unwritten: `(written keys, inserted keys, batch rows that
    /// applied to written keys)`.
    Guarded,
}

impl Counts {
    /// The layout of `model`'s bulk statement.
    #[must_use]
    pub fn of(model: &Model) -> Self {
        if model.guard.any() {
            Counts::Guarded
        } else {
            Counts::Keys {
                updates: model.has_updates(),
            }
        }
    }

    /// The outcome of a batch of `rows` rows whose statement returned `returned`.
    #[must_use]
    pub fn tally(self, rows: u64, returned: [u64; 3]) -> Tally {
        match self {
            Counts::Guarded => {
                let [_, inserted, applied] = returned;
                Tally {
                    inserted,
                    updated: applied.saturating_sub(inserted),
                    skipped: rows.saturating_sub(applied),
                }
            }
            Counts::Keys { updates } => {
                let [distinct, inserted, updated] = returned;
                let repeats = rows.saturating_sub(distinct);
                // Keys whose write was not returned were skipped.
                let unwritten = distinct.saturating_sub(inserted + updated);
                // Applied one by one, a key's later rows update it, or are skipped when
                // the struct has nothing to update.
                if updates {
                    Tally {
                        inserted,
                        updated: updated + repeats,
                        skipped: unwritten,
                    }
                } else {
                    Tally {
                        inserted,
                        updated,
                        skipped: unwritten + repeats,
                    }
                }
            }
        }
    }
}
