//! Tracing: one span per call, named for the operation, with OpenTelemetry's database
//! attribute names where they exist (`db.system.name`, `db.operation.name`,
//! `db.collection.name`, `db.namespace`, `db.operation.batch.size`,
//! `db.response.status_code`, `error.type`) and `atomic_upsert.*` for the rest (the
//! outcome counts, the bulk path, the attempt). Success is reported at DEBUG; a failure at
//! WARN when it is transient and at ERROR when it is not, by an event that carries the
//! table, operation, SQLSTATE and kind itself, so it stands alone when DEBUG spans are off.
//!
//! Without the `tracing` feature every method here is an empty inline function.

use crate::error::{Error, TableKey};
use crate::outcome::{BatchOutcome, UpsertOutcome};

/// The operation a call performs, as `db.operation.name` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Upsert,
    InsertOrIgnore,
    UpsertReturning,
    InsertOrGet,
    UpsertMany,
    UpsertManyOutcomes,
    UpsertStream,
}

impl Op {
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    fn name(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::InsertOrIgnore => "insert_or_ignore",
            Op::UpsertReturning => "upsert_returning",
            Op::InsertOrGet => "insert_or_get",
            Op::UpsertMany => "upsert_many",
            Op::UpsertManyOutcomes => "upsert_many_outcomes",
            Op::UpsertStream => "upsert_stream",
        }
    }
}

/// One call's span and clock.
pub(crate) struct CallSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg(feature = "tracing")]
    op: Op,
    #[cfg(feature = "tracing")]
    key: TableKey,
    #[cfg(feature = "tracing")]
    started: std::time::Instant,
}

#[cfg(feature = "tracing")]
impl CallSpan {
    /// Opens the span of `op` on `key`'s table for `rows` rows, attempt `attempt`.
    pub(crate) fn start(op: Op, key: &TableKey, rows: usize, attempt: u32) -> CallSpan {
        Self::start_on("postgresql", op, key, rows, attempt)
    }

    /// [`CallSpan::start`] on the database `system` (`db.system.name`).
    pub(crate) fn start_on(
        system: &'static str,
        op: Op,
        key: &TableKey,
        rows: usize,
        attempt: u32,
    ) -> CallSpan {
        let span = tracing::debug_span!(
            target: "atomic_upsert",
            "atomic_upsert",
            otel.name = format_args!("{} {}", op.name(), key.table),
            otel.kind = "client",
            db.system.name = system,
            db.operation.name = op.name(),
            db.collection.name = key.table,
            db.namespace = key.schema,
            db.operation.batch.size = matches!(op, Op::UpsertMany | Op::UpsertManyOutcomes).then_some(rows),
            atomic_upsert.rows = rows,
            atomic_upsert.attempt = attempt,
            atomic_upsert.outcome = tracing::field::Empty,
            atomic_upsert.inserted = tracing::field::Empty,
            atomic_upsert.updated = tracing::field::Empty,
            atomic_upsert.skipped = tracing::field::Empty,
            atomic_upsert.unchanged = tracing::field::Empty,
            atomic_upsert.bulk_path = tracing::field::Empty,
            atomic_upsert.presorted = tracing::field::Empty,
            db.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        CallSpan {
            span,
            op,
            key: *key,
            started: std::time::Instant::now(),
        }
    }

    /// The span, to instrument the call's future with.
    pub(crate) fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// Records the bulk path a batch took, and whether it went presorted (distinct keys,
    /// sorted by the client: no fold, no server sort).
    pub(crate) fn bulk_path(&self, copy: bool, presorted: bool) {
        self.span.record(
            "atomic_upsert.bulk_path",
            if copy { "copy" } else { "unnest" },
        );
        self.span.record("atomic_upsert.presorted", presorted);
    }

    /// Records a single-row outcome.
    pub(crate) fn outcome(&self, outcome: UpsertOutcome) {
        let (name, counts) = match outcome {
            UpsertOutcome::Inserted => ("inserted", [1, 0, 0, 0]),
            UpsertOutcome::Updated => ("updated", [0, 1, 0, 0]),
            UpsertOutcome::Skipped => ("skipped", [0, 0, 1, 0]),
            UpsertOutcome::Unchanged => ("unchanged", [0, 0, 0, 1]),
        };
        self.counts(counts);
        self.named_outcome(name);
    }

    /// Records a batch's outcome.
    pub(crate) fn batch(&self, outcome: &BatchOutcome) {
        self.counts([outcome.inserted, outcome.updated, outcome.skipped, 0]);
        tracing::debug!(
            target: "atomic_upsert",
            parent: &self.span,
            inserted = outcome.inserted,
            updated = outcome.updated,
            skipped = outcome.skipped,
            elapsed_us = self.elapsed_us(),
            "{} on {}: {} inserted, {} updated, {} skipped",
            self.op.name(),
            self.key.table,
            outcome.inserted,
            outcome.updated,
            outcome.skipped,
        );
    }

    /// Records `insert_or_get`'s outcome: `inserted`, or `existing` (counted as skipped).
    pub(crate) fn obtained(&self, inserted: bool) {
        self.counts([u64::from(inserted), 0, u64::from(!inserted), 0]);
        self.named_outcome(if inserted { "inserted" } else { "existing" });
    }

    /// Records an outcome by name only (`upsert_returning`: `written` or `skipped`, since
    /// the returned row does not say whether it was inserted).
    /// `upsert_returning`'s outcome: a row came back (written) or none (skipped).
    pub(crate) fn returned(&self, written: bool) {
        self.named_outcome(if written { "written" } else { "skipped" });
    }

    pub(crate) fn named_outcome(&self, name: &'static str) {
        self.span.record("atomic_upsert.outcome", name);
        tracing::debug!(
            target: "atomic_upsert",
            parent: &self.span,
            outcome = name,
            elapsed_us = self.elapsed_us(),
            "{} on {}: {name}",
            self.op.name(),
            self.key.table,
        );
    }

    /// Records a failure: the SQLSTATE and kind on the span, and a WARN (transient) or ERROR
    /// (permanent) event that names the table and operation itself.
    pub(crate) fn failed(&self, error: &Error) {
        let kind = error.variant();
        let sqlstate = error.sqlstate().unwrap_or("");
        if !sqlstate.is_empty() {
            self.span.record("db.response.status_code", sqlstate);
        }
        self.span.record("error.type", kind);
        let (op, table, elapsed_us) = (self.op.name(), self.key.table, self.elapsed_us());
        let (transient, applied) = (error.is_transient(), error.may_have_been_applied());
        let _entered = self.span.enter();
        // A level is part of an event's static metadata: one call per level, one field list.
        macro_rules! failure {
            ($level:ident, $message:literal) => {
                tracing::$level!(
                    target: "atomic_upsert",
                    {
                        db.operation.name = op,
                        db.collection.name = table,
                        db.response.status_code = sqlstate,
                        error.type = kind,
                        atomic_upsert.transient = transient,
                        atomic_upsert.may_have_been_applied = applied,
                        elapsed_us = elapsed_us,
                    },
                    $message
                )
            };
        }
        if transient {
            failure!(warn, "{op} on {table} failed (transient): {error}");
        } else {
            failure!(error, "{op} on {table} failed: {error}");
        }
    }

    fn counts(&self, [inserted, updated, skipped, unchanged]: [u64; 4]) {
        self.span.record("atomic_upsert.inserted", inserted);
        self.span.record("atomic_upsert.updated", updated);
        self.span.record("atomic_upsert.skipped", skipped);
        self.span.record("atomic_upsert.unchanged", unchanged);
    }

    fn elapsed_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(not(feature = "tracing"))]
#[allow(clippy::unused_self)]
impl CallSpan {
    #[inline]
    pub(crate) fn start(_: Op, _: &TableKey, _: usize, _: u32) -> CallSpan {
        CallSpan {}
    }

    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn start_on(_: &'static str, _: Op, _: &TableKey, _: usize, _: u32) -> CallSpan {
        CallSpan {}
    }
    #[inline]
    pub(crate) fn bulk_path(&self, _: bool, _: bool) {}
    #[inline]
    pub(crate) fn outcome(&self, _: UpsertOutcome) {}
    #[inline]
    pub(crate) fn batch(&self, _: &BatchOutcome) {}
    #[inline]
    pub(crate) fn obtained(&self, _: bool) {}
    #[inline]
    pub(crate) fn returned(&self, _: bool) {}
    #[inline]
    pub(crate) fn failed(&self, _: &Error) {}
}

/// Runs `future` inside `call`'s span (when tracing is on), recording its result with
/// `done` on success and [`CallSpan::failed`] on failure.
pub(crate) async fn traced<T>(
    call: CallSpan,
    future: impl Future<Output = Result<T, Error>>,
    done: impl FnOnce(&CallSpan, &T),
) -> Result<T, Error> {
    #[cfg(feature = "tracing")]
    let result = tracing::Instrument::instrument(future, call.span()).await;
    #[cfg(not(feature = "tracing"))]
    let result = future.await;
    match &result {
        Ok(value) => done(&call, value),
        Err(error) => call.failed(error),
    }
    result
}
