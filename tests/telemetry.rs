//! The `tracing` feature: one span per call with OpenTelemetry's database attribute names
//! and the outcome counts, success at DEBUG, transient failures at WARN and permanent ones
//! at ERROR, each retry attempt numbered. A layer on `tracing-subscriber`'s registry
//! captures every span's fields and every event.
//!
//! A test binary of its own with one test: the layer is the global subscriber, because
//! tracing caches each callsite's interest process-wide, and thread-local subscribers in
//! tests running side by side make that cache (and so the capture) flaky.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atomic_upsert::sqlx::postgres::PgPoolOptions;
use atomic_upsert::sqlx::{self};
use atomic_upsert::{AtomicUpsert, BulkPath, Retry};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use upsert_testkit::TestDb;

#[derive(AtomicUpsert)]
#[upsert(table = "visits")]
struct Visit_ {
    #[conflict_key]
    page: String,
    #[upsert(add)]
    hits: i64,
}

const VISITS: &str =
    "CREATE TABLE visits (page text PRIMARY KEY, hits int8 NOT NULL CHECK (hits >= 0))";

fn visit(page: &str, hits: i64) -> Visit_ {
    Visit_ {
        page: page.into(),
        hits,
    }
}

type Fields = BTreeMap<String, String>;

/// What the layer saw: each span's fields (in creation order) and each event's level and
/// fields.
#[derive(Default, Clone)]
struct Captured {
    spans: Arc<Mutex<Vec<(Id, String, Fields)>>>,
    events: Arc<Mutex<Vec<(Level, Fields)>>>,
}

struct Fielder<'f>(&'f mut Fields);

impl Visit for Fielder<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Captured {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Fielder(&mut fields));
        let name = attrs.metadata().name().to_owned();
        self.spans.lock().unwrap().push((id.clone(), name, fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, _, fields)) = spans.iter_mut().find(|(span, _, _)| span == id) {
            values.record(&mut Fielder(fields));
        }
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "atomic_upsert" {
            return;
        }
        let mut fields = Fields::new();
        event.record(&mut Fielder(&mut fields));
        self.events
            .lock()
            .unwrap()
            .push((*event.metadata().level(), fields));
    }
}

impl Captured {
    /// The fields of our spans, in order, and forgets them.
    fn take_spans(&self) -> Vec<Fields> {
        let mut spans = self.spans.lock().unwrap();
        let ours = spans
            .iter()
            .filter(|(_, name, _)| name == "atomic_upsert")
            .map(|(_, _, fields)| fields.clone())
            .collect();
        spans.clear();
        ours
    }

    fn take_events(&self) -> Vec<(Level, Fields)> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

fn field<'f>(fields: &'f Fields, name: &str) -> &'f str {
    fields
        .get(name)
        .map_or_else(|| panic!("no field {name} in {fields:?}"), String::as_str)
}

#[tokio::test]
async fn spans_and_events_of_every_call() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(captured.clone()))
        .unwrap();
    every_call_has_a_span_with_database_attributes_and_its_outcome(&captured).await;
    transient_failures_are_warnings_and_retries_number_their_attempts(&captured).await;
}

async fn every_call_has_a_span_with_database_attributes_and_its_outcome(captured: &Captured) {
    let db = TestDb::new(4).await;
    sqlx::raw_sql(VISITS).execute(&db.pool).await.unwrap();
    captured.take_spans();
    captured.take_events();

    // A single-row insert, then an update.
    visit("/", 1).upsert(&db.pool).await.unwrap();
    visit("/", 2).upsert(&db.pool).await.unwrap();
    let spans = captured.take_spans();
    assert_eq!(spans.len(), 2, "{spans:?}");
    for (span, outcome) in spans.iter().zip(["inserted", "updated"]) {
        assert_eq!(field(span, "db.system.name"), "postgresql");
        assert_eq!(field(span, "db.operation.name"), "upsert");
        assert_eq!(field(span, "db.collection.name"), "visits");
        assert_eq!(field(span, "otel.name"), "upsert visits");
        assert_eq!(field(span, "atomic_upsert.rows"), "1");
        assert_eq!(field(span, "atomic_upsert.attempt"), "1");
        assert_eq!(field(span, "atomic_upsert.outcome"), outcome);
        assert!(!span.contains_key("error.type"));
    }
    assert_eq!(field(&spans[0], "atomic_upsert.inserted"), "1");
    assert_eq!(field(&spans[1], "atomic_upsert.updated"), "1");
    let events = captured.take_events();
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|(level, _)| *level == Level::DEBUG),
        "success is DEBUG"
    );

    // A batch on each path: the size, the path and the counts.
    for (path, name) in [(BulkPath::Unnest, "unnest"), (BulkPath::Copy, "copy")] {
        let fresh = format!("/{name}");
        let rows = [visit("/", 1), visit(&fresh, 1), visit(&fresh, 1)];
        Visit_::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap();
        let spans = captured.take_spans();
        assert_eq!(spans.len(), 1, "{spans:?}");
        let span = &spans[0];
        assert_eq!(field(span, "db.operation.name"), "upsert_many");
        assert_eq!(field(span, "db.operation.batch.size"), "3");
        assert_eq!(field(span, "atomic_upsert.bulk_path"), name);
        // A repeated key: the server folds the batch.
        assert_eq!(field(span, "atomic_upsert.presorted"), "false", "{path:?}");
        assert_eq!(field(span, "atomic_upsert.inserted"), "1", "{path:?}");
        assert_eq!(field(span, "atomic_upsert.updated"), "2", "{path:?}");
        assert_eq!(field(span, "atomic_upsert.skipped"), "0", "{path:?}");
    }
    // Distinct keys, in any order: sorted by the client, no fold.
    for path in [BulkPath::Unnest, BulkPath::Copy] {
        let rows = [visit("/z", 1), visit("/B", 1), visit("/a", 1)];
        Visit_::upsert_many_via(&db.pool, &rows, path)
            .await
            .unwrap();
        let spans = captured.take_spans();
        assert_eq!(
            field(&spans[0], "atomic_upsert.presorted"),
            "true",
            "{path:?}"
        );
    }
    captured.take_events();

    // A permanent failure: the SQLSTATE and kind on the span, an ERROR event that names
    // the table and the operation on its own.
    visit("/", -100).upsert(&db.pool).await.unwrap_err();
    let spans = captured.take_spans();
    assert_eq!(field(&spans[0], "db.response.status_code"), "23514");
    assert_eq!(field(&spans[0], "error.type"), "CheckViolation");
    let events = captured.take_events();
    assert_eq!(events.len(), 1);
    let (level, event) = &events[0];
    assert_eq!(*level, Level::ERROR);
    assert_eq!(field(event, "db.collection.name"), "visits");
    assert_eq!(field(event, "db.operation.name"), "upsert");
    assert_eq!(field(event, "db.response.status_code"), "23514");
    assert_eq!(field(event, "atomic_upsert.transient"), "false");
    assert!(field(event, "message").contains("visits"), "{event:?}");
    db.finish().await;
}

async fn transient_failures_are_warnings_and_retries_number_their_attempts(captured: &Captured) {
    let db = TestDb::new(2).await;
    sqlx::raw_sql(VISITS).execute(&db.pool).await.unwrap();
    visit("/", 1).upsert(&db.pool).await.unwrap();
    // Another transaction holds the row; our pool gives up waiting after 20 ms (55P03).
    let mut holder = db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM visits WHERE page = '/' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let impatient = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(upsert_testkit::connect_options().options([
            ("lock_timeout", "20ms"),
            ("search_path", db.schema.as_str()),
        ]))
        .await
        .unwrap();
    captured.take_spans();
    captured.take_events();
    let error = Retry::default()
        .attempts(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .upsert(&impatient, &visit("/", 1))
        .await
        .unwrap_err();
    assert_eq!(error.sqlstate(), Some("55P03"));
    let spans = captured.take_spans();
    let attempts: Vec<&str> = spans
        .iter()
        .map(|span| field(span, "atomic_upsert.attempt"))
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(
        spans
            .iter()
            .all(|span| field(span, "db.response.status_code") == "55P03")
    );
    let events = captured.take_events();
    assert_eq!(events.len(), 3);
    for (level, event) in &events {
        assert_eq!(*level, Level::WARN, "transient is WARN");
        assert_eq!(field(event, "atomic_upsert.transient"), "true");
        assert_eq!(field(event, "atomic_upsert.may_have_been_applied"), "false");
    }
    holder.rollback().await.unwrap();
    impatient.close().await;

    // A failure before the call (no connection: the pool is closed) is an event too.
    let error = Retry::default()
        .upsert(&impatient, &visit("/", 1))
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    let events = captured.take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let (level, event) = &events[0];
    assert_eq!(*level, Level::ERROR);
    assert_eq!(field(event, "db.collection.name"), "visits");
    assert_eq!(field(event, "error.type"), "Sqlx");
    db.finish().await;
}
