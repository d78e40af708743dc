//! Runtime of [`atomic-upsert`](https://docs.rs/atomic-upsert): the [`AtomicUpsert`] trait,
//! its execution on sqlx, [`UpsertOutcome`] and [`Error`].
//!
//! Use it through the `atomic-upsert` crate, which also re-exports the derive.

mod bulk;
mod error;
mod execute;
mod outcome;
#[doc(hidden)]
pub mod private;

use std::future::Future;

pub use bulk::{BulkPath, COPY_CHUNK_BYTES, COPY_THRESHOLD};
pub use error::Error;
pub use outcome::{BatchOutcome, UpsertOutcome};
pub use sqlx;

use sqlx::postgres::PgExecutor;

/// A row that upserts itself atomically: one `INSERT .. ON CONFLICT .. DO UPDATE`
/// statement, built at compile time by `#[derive(AtomicUpsert)]`.
///
/// Two jobs that both "see no row yet" cannot both insert: PostgreSQL resolves the
/// conflict inside the one statement, so there is no `duplicate key value violates unique
/// constraint` to handle and no window between a SELECT and an INSERT.
///
/// ```no_run
/// use atomic_upsert::{AtomicUpsert, UpsertOutcome};
///
/// #[derive(AtomicUpsert)]
/// #[upsert(table = "strava_stats")]
/// struct StravaStats {
///     #[conflict_key]
///     stats_type: String,
///     data: atomic_upsert::sqlx::types::Json<serde_json::Value>,
/// }
///
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// let ytd = StravaStats {
///     stats_type: "ytd".into(),
///     data: atomic_upsert::sqlx::types::Json(serde_json::json!({ "km": 1234 })),
/// };
/// let outcome = ytd.upsert(&pool).await?; // &PgPool, &mut *conn or &mut *tx
/// assert!(matches!(outcome, UpsertOutcome::Inserted | UpsertOutcome::Updated));
/// # Ok(()) }
/// ```
///
/// The statement is a constant you can read (and log, or compare in a review):
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Tag {
///     #[conflict_key]
///     name: String,
///     color: String,
/// }
///
/// assert_eq!(
///     Tag::UPSERT_SQL,
///     r#"INSERT INTO "tag" ("name", "color") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "color" = EXCLUDED."color" RETURNING (xmax = 0)"#
/// );
/// ```
///
/// # The derive
///
/// `#[derive(AtomicUpsert)]` applies to structs with named fields. Mistakes are compile
/// errors pointing at the attribute or field at fault, all reported in one build.
///
/// Every identifier in the SQL is double-quoted (embedded quotes doubled), so columns
/// named `user`, `order` or `group` work. Values are always bound as parameters, never
/// interpolated.
///
/// Lifetimes are supported (`name: &'a str` borrows instead of cloning). Type and const
/// generics are rejected: the SQL is fixed at compile time and must not depend on a type
/// parameter.
///
/// ## `#[conflict_key]` (field, required, one or more)
///
/// The unique key of the row: the `ON CONFLICT (..)` target. Several fields form a
/// composite target, in field order. The table needs a unique index or constraint on
/// exactly these columns; without it every call fails with
/// [`Error::NoMatchingUniqueIndex`], whose message carries the `CREATE UNIQUE INDEX` fix.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct DailyTotal {
///     #[conflict_key]
///     athlete_id: i64,
///     #[conflict_key]
///     day: String,
///     distance_m: i64,
/// }
/// assert!(DailyTotal::UPSERT_SQL.contains(r#"ON CONFLICT ("athlete_id", "day")"#));
/// ```
///
/// A struct whose fields are all keys (a set-membership table) is supported: there is
/// nothing to update, so the statement is `ON CONFLICT (..) DO NOTHING` and an existing
/// row yields [`UpsertOutcome::Skipped`]. The same holds when every non-key field is
/// `insert_only` or `created_at`.
///
/// ## `#[upsert(table = "..")]` (struct)
///
/// The table name. Default: the struct name in `snake_case` (`StravaStats` → `strava_stats`).
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(table = "auth")]
/// struct StravaAuth {
///     #[conflict_key]
///     id: i32,
///     access_token: String,
/// }
/// assert!(StravaAuth::UPSERT_SQL.starts_with(r#"INSERT INTO "auth""#));
/// ```
///
/// ## `#[upsert(schema = "..")]` (struct)
///
/// Qualifies the table with a schema. Without it the connection's `search_path` decides.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(schema = "strava", table = "stats")]
/// struct Stats {
///     #[conflict_key]
///     stats_type: String,
///     total: i64,
/// }
/// assert!(Stats::UPSERT_SQL.starts_with(r#"INSERT INTO "strava"."stats""#));
/// ```
///
/// ## `#[upsert(rename = "..")]` (field)
///
/// The column name, when it differs from the field name.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Membership {
///     #[conflict_key]
///     #[upsert(rename = "user")]
///     user_id: i64,
///     #[upsert(rename = "group")]
///     group_name: String,
/// }
/// assert!(Membership::UPSERT_SQL.contains(r#"("user", "group")"#));
/// ```
///
/// ## `#[upsert(skip)]` (field)
///
/// Never written: the column keeps its database default on insert and its value on update.
/// The field's type need not be encodable.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Page {
///     #[conflict_key]
///     url: String,
///     #[upsert(skip)]
///     cached_html: Option<Vec<u8>>,
/// }
/// assert!(!Page::UPSERT_SQL.contains("cached_html"));
/// ```
///
/// ## `#[upsert(insert_only)]` (field)
///
/// Written when the row is inserted, never overwritten by an update (first-seen values).
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Visitor {
///     #[conflict_key]
///     id: String,
///     #[upsert(insert_only)]
///     first_referrer: String,
///     last_path: String,
/// }
/// assert!(Visitor::UPSERT_SQL.ends_with(r#"DO UPDATE SET "last_path" = EXCLUDED."last_path" RETURNING (xmax = 0)"#));
/// ```
///
/// ## `#[upsert(created_at)]` and `#[upsert(updated_at)]` (field)
///
/// Timestamps set by the server: `created_at` is `now()` on insert and never changes;
/// `updated_at` is `now()` on insert and on every update. The field's value is not sent
/// (its type is free; it only names the column).
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Token {
///     #[conflict_key]
///     id: i32,
///     secret: String,
///     #[upsert(created_at)]
///     created_at: (),
///     #[upsert(updated_at)]
///     updated_at: (),
/// }
/// assert_eq!(
///     Token::UPSERT_SQL,
///     r#"INSERT INTO "token" ("id", "secret", "created_at", "updated_at") VALUES ($1, $2, now(), now()) ON CONFLICT ("id") DO UPDATE SET "secret" = EXCLUDED."secret", "updated_at" = now() RETURNING (xmax = 0)"#
/// );
/// ```
///
/// # Conflict strategies (field)
///
/// By default a conflict replaces every non-key column with the incoming value. A strategy
/// says how one column combines the stored value (named by the table, `"t"."c"`) and the
/// incoming one (`EXCLUDED."c"`) instead. One strategy per field, never on a key; each
/// also holds inside [`upsert_many`](AtomicUpsert::upsert_many), which folds a key's rows
/// the way applying them one by one would.
///
/// ## `#[upsert(add)]`
///
/// `c = t.c + EXCLUDED.c`: a counter that never loses an increment, however many writers
/// race (the row lock serializes the additions). The field must be a numeric type
/// (`i16`, `i32`, `i64`, `f32`, `f64`; checked at compile time). In a batch, a key's rows
/// are summed.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct PageViews {
///     #[conflict_key]
///     url: String,
///     #[upsert(add)]
///     views: i64,
/// }
/// assert!(PageViews::UPSERT_SQL.contains(r#""views" = "page_views"."views" + EXCLUDED."views""#));
/// ```
///
/// ## `#[upsert(greatest)]` and `#[upsert(least)]`
///
/// `GREATEST(t.c, EXCLUDED.c)` / `LEAST(..)`: a high-water mark or a first-seen time.
/// NULLs are ignored, as PostgreSQL's `GREATEST` does.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Best {
///     #[conflict_key]
///     athlete: i64,
///     #[upsert(greatest)]
///     longest_ride_m: i64,
///     #[upsert(least)]
///     fastest_km_s: f64,
/// }
/// assert!(Best::UPSERT_SQL.contains(r#"GREATEST("best"."longest_ride_m", EXCLUDED."longest_ride_m")"#));
/// ```
///
/// ## `#[upsert(coalesce)]`
///
/// `COALESCE(EXCLUDED.c, t.c)`: a NULL (`None`) never overwrites a stored value, so a
/// partial record does not wipe what an earlier one filled in. The field must be an
/// `Option` (checked at compile time).
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Profile {
///     #[conflict_key]
///     id: i64,
///     #[upsert(coalesce)]
///     city: Option<String>,
/// }
/// assert!(Profile::UPSERT_SQL.contains(r#"COALESCE(EXCLUDED."city", "profile"."city")"#));
/// ```
///
/// ## `#[upsert(merge)]`
///
/// jsonb `t.c || EXCLUDED.c`: the incoming object's top-level keys are added to the stored
/// object, replacing equal keys (a shallow merge). A NULL on either side keeps the other.
/// The field must be JSON (`sqlx::types::Json<T>` or `serde_json::Value`, optionally in
/// `Option`; checked at compile time) and the column `jsonb`. In a batch, a key's repeated
/// rows must be JSON objects, merged in order.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// # use atomic_upsert::sqlx::types::Json;
/// #[derive(AtomicUpsert)]
/// #[upsert(table = "strava_stats")]
/// struct StravaStats {
///     #[conflict_key]
///     stats_type: String,
///     #[upsert(merge)]
///     data: Json<serde_json::Value>,
/// }
/// assert!(StravaStats::UPSERT_SQL.contains(r#""strava_stats"."data" || EXCLUDED."data""#));
/// ```
///
/// # Guards
///
/// A guard adds a `WHERE` to `DO UPDATE`: when it does not hold, the stored row is left as
/// it was (locked, not written), and [`upsert`](AtomicUpsert::upsert) returns
/// [`UpsertOutcome::Skipped`] (or [`UpsertOutcome::Unchanged`], below).
///
/// ## `#[upsert(version)]` (field)
///
/// Update only when the incoming value is greater than the stored one
/// (`EXCLUDED.v > t.v`): out-of-order or replayed events never overwrite newer state. One
/// field per struct; the column should be `NOT NULL` (a NULL compares as unknown and never
/// passes). In a batch, the key's row with the highest version wins, other strategies fold
/// only the rows that would have applied, and rows that would have been stale one by one
/// are counted as skipped. Those counts compare with the stored versions as the statement
/// sees them when it starts; the write itself always re-checks the guard against the
/// locked row, so a concurrent writer of the same keys can make a count approximate, never
/// the stored data.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// struct Account {
///     #[conflict_key]
///     id: i64,
///     balance: i64,
///     #[upsert(version)]
///     event_seq: i64,
/// }
/// assert!(Account::UPSERT_SQL.ends_with(r#"WHERE EXCLUDED."event_seq" > "account"."event_seq" RETURNING (xmax = 0)"#));
/// ```
///
/// ## `#[upsert(skip_unchanged)]` (struct)
///
/// No write when no column would change: the update runs only when the new values are
/// `IS DISTINCT FROM` the stored ones (timestamps aside), so an identical re-import writes
/// nothing, leaves `updated_at` where it was, creates no dead tuple and fires no trigger.
/// `upsert` then returns [`UpsertOutcome::Unchanged`]. With a `version` or `update_where`
/// guard as well, an unwritten row is `Unchanged` when the stored row already holds every
/// incoming value (a replayed event), else `Skipped` (held back by the other guard); the
/// statement reads the stored row for this in the same round trip. The compared columns
/// need an equality operator (`jsonb` has one; `json` does not).
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(skip_unchanged)]
/// struct Price {
///     #[conflict_key]
///     sku: String,
///     cents: i64,
///     #[upsert(updated_at)]
///     updated_at: (),
/// }
/// assert!(Price::UPSERT_SQL.contains(r#"WHERE ("price"."cents") IS DISTINCT FROM (EXCLUDED."cents")"#));
/// ```
///
/// ## `#[upsert(update_where = "..")]` (struct)
///
/// **Raw SQL escape hatch.** The string is pasted, unchecked and in parentheses, into
/// `DO UPDATE .. WHERE (..)`: name the stored row by the table name and the incoming row
/// as `EXCLUDED`. It is code, not data: never build it from user input (it is a string
/// literal, so it cannot be). PostgreSQL checks it when the statement is first prepared.
/// It cannot be combined with `version` (write the version comparison into the predicate
/// instead). In a batch it is evaluated once per key, against the key's folded row.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(update_where = "NOT listing.locked")]
/// struct Listing {
///     #[conflict_key]
///     id: i64,
///     title: String,
/// }
/// assert!(Listing::UPSERT_SQL.contains("WHERE (NOT listing.locked)"));
/// ```
///
/// # Conflict targets (struct)
///
/// ## `#[upsert(constraint = "..")]`
///
/// `ON CONFLICT ON CONSTRAINT "name"` instead of the key columns. The `#[conflict_key]`
/// fields must still be the constraint's columns: they drive the in-batch deduplication
/// of `upsert_many`.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(constraint = "auth_pkey")]
/// struct Auth {
///     #[conflict_key]
///     id: i32,
///     token: String,
/// }
/// assert!(Auth::UPSERT_SQL.contains(r#"ON CONFLICT ON CONSTRAINT "auth_pkey" DO UPDATE"#));
/// ```
///
/// ## `#[upsert(conflict_where = "..")]`
///
/// The predicate of a partial unique index, so that `ON CONFLICT (key) WHERE (..)` can
/// use it: for example an email unique only among live rows,
/// `CREATE UNIQUE INDEX ON users (email) WHERE NOT deleted`. A soft-deleted row then
/// never conflicts, and a new row with the same email is inserted beside it. Raw SQL,
/// like `update_where`; it must match the index's predicate. Not combinable with
/// `constraint`.
///
/// ```
/// # use atomic_upsert::AtomicUpsert;
/// #[derive(AtomicUpsert)]
/// #[upsert(table = "users", conflict_where = "NOT deleted")]
/// struct User {
///     #[conflict_key]
///     email: String,
///     name: String,
///     deleted: bool,
/// }
/// assert!(User::UPSERT_SQL.contains(r#"ON CONFLICT ("email") WHERE (NOT deleted) DO UPDATE"#));
/// ```
pub trait AtomicUpsert: Sized + Send + Sync {
    /// The table name, unquoted (for messages; the statements carry it quoted).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct StravaStats { #[conflict_key] stats_type: String, n: i64 }
    /// assert_eq!(StravaStats::TABLE, "strava_stats");
    /// ```
    const TABLE: &'static str;

    /// The schema from `#[upsert(schema = "..")]`, if any.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// #[upsert(schema = "app")]
    /// struct Setting { #[conflict_key] key: String, value: String }
    /// assert_eq!(Setting::SCHEMA, Some("app"));
    /// ```
    const SCHEMA: Option<&'static str>;

    /// The conflict-key columns, in order.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Cell { #[conflict_key] x: i32, #[conflict_key] y: i32, v: i32 }
    /// assert_eq!(Cell::CONFLICT_COLUMNS, ["x", "y"]);
    /// ```
    const CONFLICT_COLUMNS: &'static [&'static str];

    /// `INSERT .. ON CONFLICT (key) DO UPDATE SET .. RETURNING (xmax = 0)`, built at
    /// compile time. Run by [`upsert`](AtomicUpsert::upsert).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::UPSERT_SQL.contains("DO UPDATE"));
    /// ```
    const UPSERT_SQL: &'static str;

    /// `INSERT .. ON CONFLICT (key) DO NOTHING RETURNING (xmax = 0)`, built at compile time.
    /// Run by [`insert_or_ignore`](AtomicUpsert::insert_or_ignore).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::INSERT_OR_IGNORE_SQL.contains(r#"ON CONFLICT ("name") DO NOTHING"#));
    /// ```
    const INSERT_OR_IGNORE_SQL: &'static str;

    /// The bulk statement of [`upsert_many`](AtomicUpsert::upsert_many)'s `UNNEST` path:
    /// one array parameter per column, the batch deduplicated per key (last row wins),
    /// rows written in key order, and one row of counts returned. One prepared statement
    /// serves every batch size.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::UPSERT_MANY_SQL.contains(r#"UNNEST($1, $2)"#));
    /// ```
    const UPSERT_MANY_SQL: &'static str;

    /// The bulk statement reading the `COPY` path's staging table. Generated; not public API.
    #[doc(hidden)]
    const __STAGE_UPSERT_SQL: &'static str;
    /// `COPY` into the staging table. Generated; not public API.
    #[doc(hidden)]
    const __STAGE_COPY_SQL: &'static str;
    /// The bound columns, in statement order. Generated; not public API.
    #[doc(hidden)]
    const __STAGE_COLUMNS: &'static [&'static str];
    /// Whether a conflict updates anything (else `DO NOTHING`). Generated; not public API.
    #[doc(hidden)]
    const __UPDATES_ON_CONFLICT: bool;
    /// Whether a guard can leave an existing row unwritten. Generated; not public API.
    #[doc(hidden)]
    const __GUARDED: bool = false;
    /// Whether an unwritten existing row means `Unchanged` (only `skip_unchanged` guards).
    /// Generated; not public API.
    #[doc(hidden)]
    const __UNWRITTEN_IS_UNCHANGED: bool = false;

    /// The upsert of [`upsert_returning`](AtomicUpsert::upsert_returning): `UPSERT_SQL`
    /// with `RETURNING` every field's column, in field order, built at compile time.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::UPSERT_RETURNING_SQL.ends_with(r#"RETURNING "name", "color""#));
    /// ```
    const UPSERT_RETURNING_SQL: &'static str;

    /// Binds the written fields, in statement order. Generated; not public API.
    #[doc(hidden)]
    fn __bind<'q>(&'q self, query: private::PgQuery<'q>) -> private::PgQuery<'q>;

    /// Binds one array per written column. Generated; not public API.
    #[doc(hidden)]
    fn __bind_many<'q>(rows: &'q [Self], query: private::PgQuery<'q>) -> private::PgQuery<'q>;

    /// The PostgreSQL types of the bound columns. Generated; not public API.
    #[doc(hidden)]
    fn __stage_types() -> Vec<private::PgTypeInfo>;

    /// Appends the bound fields in binary COPY format. Generated; not public API.
    #[doc(hidden)]
    fn __copy_row(&self, out: &mut private::CopyBuffer) -> Result<(), private::BoxDynError>;

    /// Inserts the row, or updates the existing row with the same conflict key, in one
    /// atomic statement and one round trip.
    ///
    /// `executor` is any sqlx PostgreSQL executor: `&PgPool`, `&mut *conn` for a pooled
    /// connection, or `&mut *tx` to join a transaction.
    ///
    /// Returns [`UpsertOutcome::Inserted`] or [`UpsertOutcome::Updated`], read from the
    /// statement itself; [`UpsertOutcome::Skipped`] when there is nothing to update (see
    /// the all-keys rule above) or a `version`/`update_where` guard held the row back;
    /// [`UpsertOutcome::Unchanged`] when `skip_unchanged` found nothing to change. On error
    /// the table is unchanged.
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let tag = Tag { name: "rust".into(), color: "orange".into() };
    /// tag.upsert(&pool).await?;
    ///
    /// let mut tx = pool.begin().await?;
    /// tag.upsert(&mut *tx).await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    fn upsert<'c, E>(
        &self,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send
    where
        E: PgExecutor<'c>,
    {
        let unwritten = if Self::__UNWRITTEN_IS_UNCHANGED {
            UpsertOutcome::Unchanged
        } else {
            UpsertOutcome::Skipped
        };
        execute::single(self, Self::UPSERT_SQL, unwritten, executor)
    }

    /// Upserts the row like [`upsert`](AtomicUpsert::upsert) and returns it as stored
    /// afterwards, in the same statement: counters summed, `coalesce`d and `merge`d columns
    /// combined, `insert_only` values as first written, server defaults and timestamps
    /// filled in. `None` when nothing was written: a guard (`version`, `update_where`,
    /// `skip_unchanged`) held the row back, or there was nothing to update.
    ///
    /// No `sqlx::FromRow` is needed: the derive reads every field back from the
    /// `RETURNING` list of [`UPSERT_RETURNING_SQL`](AtomicUpsert::UPSERT_RETURNING_SQL),
    /// `#[upsert(skip)]` fields included (their columns must exist). Every field must be an
    /// owned type sqlx can decode, so a struct with `&'a str` fields or `()` placeholders
    /// cannot call this method (a compile error at the call).
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct PageViews {
    ///     #[conflict_key]
    ///     url: String,
    ///     #[upsert(add)]
    ///     views: i64,
    /// }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let hit = PageViews { url: "/".into(), views: 1 };
    /// if let Some(stored) = hit.upsert_returning(&pool).await? {
    ///     println!("{} views so far", stored.views);
    /// }
    /// # Ok(()) }
    /// ```
    fn upsert_returning<'c, E>(
        &self,
        executor: E,
    ) -> impl Future<Output = Result<Option<Self>, Error>> + Send
    where
        E: PgExecutor<'c>,
        Self: for<'r> private::FromStored<'r>,
    {
        execute::returning(self, executor)
    }

    /// Inserts the row unless one with the same conflict key exists
    /// (`ON CONFLICT (key) DO NOTHING`): [`UpsertOutcome::Inserted`] or
    /// [`UpsertOutcome::Skipped`].
    ///
    /// A clash on a *different* unique constraint is still an error
    /// ([`Error::UniqueViolation`]): only the conflict key is ignored.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, UpsertOutcome};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let tag = Tag { name: "rust".into(), color: "orange".into() };
    /// if tag.insert_or_ignore(&pool).await? == UpsertOutcome::Skipped {
    ///     println!("already there; left as it was");
    /// }
    /// # Ok(()) }
    /// ```
    fn insert_or_ignore<'c, E>(
        &self,
        executor: E,
    ) -> impl Future<Output = Result<UpsertOutcome, Error>> + Send
    where
        E: PgExecutor<'c>,
    {
        execute::single(
            self,
            Self::INSERT_OR_IGNORE_SQL,
            UpsertOutcome::Skipped,
            executor,
        )
    }

    /// Upserts a whole batch in one call, with the result of applying the rows one by one,
    /// in order, and none of the usual failures:
    ///
    /// - a key repeated in the batch never raises "ON CONFLICT DO UPDATE command cannot
    ///   affect row a second time": the last row wins (`insert_only` columns keep the
    ///   first row's value), and the counts say so (`a, b, a` on an empty table gives
    ///   inserted 2, updated 1);
    /// - rows are written in conflict-key order, so concurrent batches over overlapping
    ///   keys never deadlock on each other;
    /// - there is no 65535-parameter limit: the statement's shape does not depend on the
    ///   batch size;
    /// - all or nothing: a bad row fails the call and leaves the table unchanged
    ///   ([`Error::Row`] or [`Error::Encode`] name the row where the cause is known);
    /// - an empty batch returns zeros without a round trip.
    ///
    /// `executor` is `&PgPool`, `&mut *conn` or `&mut *tx`; in a transaction the batch
    /// joins it (the `COPY` path uses a savepoint). Up to [`COPY_THRESHOLD`] rows go as one
    /// `UNNEST` statement ([`UPSERT_MANY_SQL`](AtomicUpsert::UPSERT_MANY_SQL)); larger
    /// batches stream through binary `COPY` into a temporary table, in chunks of
    /// [`COPY_CHUNK_BYTES`], so memory stays bounded. See [`BulkPath`].
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let rows = vec![
    ///     Tag { name: "a".into(), color: "red".into() },
    ///     Tag { name: "b".into(), color: "blue".into() },
    ///     Tag { name: "a".into(), color: "green".into() },
    /// ];
    /// let outcome = Tag::upsert_many(&pool, &rows).await?;
    /// assert_eq!((outcome.inserted, outcome.updated), (2, 1)); // on an empty table
    /// # Ok(()) }
    /// ```
    fn upsert_many<'c, A>(
        executor: A,
        rows: &[Self],
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
    {
        bulk::upsert_many(executor, rows, BulkPath::Auto)
    }

    /// [`upsert_many`](AtomicUpsert::upsert_many) on a chosen path; both paths give the
    /// same result. For benchmarks and for tuning; `upsert_many` picks for you.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, BulkPath};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, rows: Vec<Tag>) -> Result<(), atomic_upsert::Error> {
    /// Tag::upsert_many_via(&pool, &rows, BulkPath::Copy).await?;
    /// # Ok(()) }
    /// ```
    fn upsert_many_via<'c, A>(
        executor: A,
        rows: &[Self],
        path: BulkPath,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
    {
        bulk::upsert_many(executor, rows, path)
    }
}
