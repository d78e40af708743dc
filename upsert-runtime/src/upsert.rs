//! The trait users derive and call: [`AtomicUpsert`]. Its methods dispatch on the
//! executor's database through the traits of `dispatch.rs`; what only PostgreSQL does (streams,
//! get-or-create, the writer) calls the PostgreSQL backend directly.

use std::future::Future;

use crate::dispatch::{Batches, BulkPath, Returns, Runs, Sql, Statements};
use crate::error::Error;
use crate::outcome::{BatchOutcome, Obtained, UpsertOutcome};
use crate::postgres::cancel::Acquired;
use crate::postgres::generated::{FromStored, Generated};
use crate::postgres::{execute, stream};
use crate::writer::{Writer, WriterConfig};

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
#[doc = include_str!("attributes.md")]
pub trait AtomicUpsert: Generated {
    /// The table name, unquoted (for messages; the statements carry it quoted).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct StravaStats { #[conflict_key] stats_type: String, n: i64 }
    /// assert_eq!(StravaStats::TABLE, "strava_stats");
    /// ```
    const TABLE: &'static str = Self::KEY.table;

    /// The schema from `#[upsert(schema = "..")]`, if any.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// #[upsert(schema = "app")]
    /// struct Setting { #[conflict_key] key: String, value: String }
    /// assert_eq!(Setting::SCHEMA, Some("app"));
    /// ```
    const SCHEMA: Option<&'static str> = Self::KEY.schema;

    /// The conflict-key columns, in order.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Cell { #[conflict_key] x: i32, #[conflict_key] y: i32, v: i32 }
    /// assert_eq!(Cell::CONFLICT_COLUMNS, ["x", "y"]);
    /// ```
    const CONFLICT_COLUMNS: &'static [&'static str] = Self::KEY.columns;

    /// `INSERT .. ON CONFLICT (key) DO UPDATE SET .. RETURNING (xmax = 0)`, built at
    /// compile time. Run by [`upsert`](AtomicUpsert::upsert).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::UPSERT_SQL.contains("DO UPDATE"));
    /// ```
    const UPSERT_SQL: &'static str = Self::PLAN.sql.upsert_sql;

    /// `INSERT .. ON CONFLICT (key) DO NOTHING RETURNING (xmax = 0)`, built at compile time.
    /// Run by [`insert_or_ignore`](AtomicUpsert::insert_or_ignore).
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::INSERT_OR_IGNORE_SQL.contains(r#"ON CONFLICT ("name") DO NOTHING"#));
    /// ```
    const INSERT_OR_IGNORE_SQL: &'static str = Self::PLAN.sql.insert_or_ignore_sql;

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
    const UPSERT_MANY_SQL: &'static str = Self::PLAN.sql.upsert_many_sql;

    /// The upsert of [`upsert_returning`](AtomicUpsert::upsert_returning): `UPSERT_SQL`
    /// with `RETURNING` every field's column, in field order, built at compile time. A
    /// field of a common scalar type (integers, floats, `bool`, strings, bytes) reads its
    /// column cast to that type: the prepared statement does not go stale when the column's
    /// type changes, and a value that does not fit fails the statement (nothing written)
    /// rather than the decoding after the write.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(Tag::UPSERT_RETURNING_SQL.ends_with(r#"RETURNING "name"::text AS "name", "color"::text AS "color""#));
    /// ```
    const UPSERT_RETURNING_SQL: &'static str = Self::PLAN.sql.upsert_returning_sql;

    /// Whether applying the same row twice leaves what applying it once leaves: true
    /// unless an `#[upsert(add)]` counter would add twice (with a `version` field the
    /// replay is stale, so it is true again). [`Retry`](crate::Retry) retries a call whose fate is unknown
    /// (the connection broke after sending) only when this holds.
    ///
    /// ```
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct PageViews { #[conflict_key] url: String, #[upsert(add)] views: i64 }
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    /// assert!(!PageViews::IDEMPOTENT);
    /// assert!(Tag::IDEMPOTENT);
    /// ```
    const IDEMPOTENT: bool;

    /// Inserts the row, or updates the existing row with the same conflict key, in one
    /// atomic statement and one round trip.
    ///
    /// `executor` is any sqlx PostgreSQL executor: `&PgPool`, `&mut *conn` for a pooled
    /// connection, or `&mut *tx` to join a transaction. With the `sqlite` feature it may be
    /// `&SqlitePool`, `&mut *conn` or `&mut *tx` on SQLite, with the same outcomes: SQLite
    /// has no `xmax`, so an unguarded struct updates the stored row first and inserts when
    /// there was none (each statement atomic), and a guarded one probes the key and writes
    /// under one write lock.
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
        E: sqlx::Executor<'c>,
        E::Database: Runs<'c, Self, E>,
    {
        <E::Database as Runs<'c, Self, E>>::upsert(self, executor)
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
    /// owned type sqlx can decode, so a struct with `&'a str` fields cannot call this method
    /// (a compile error at the call); a `()` placeholder (a `created_at`/`updated_at`
    /// field) reads back as `()`.
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
        E: sqlx::Executor<'c>,
        E::Database: Returns<'c, Self, E>,
    {
        <E::Database as Returns<'c, Self, E>>::upsert_returning(self, executor)
    }

    /// [`upsert_returning`](AtomicUpsert::upsert_returning) into another type: the stored
    /// row, every column of it (`RETURNING *`), read into your read model `R`
    /// (`sqlx::FromRow`). The struct stays a write form: no placeholder for a serial id or a
    /// defaulted column the database fills. `None` when a guard skipped the write, as for
    /// `upsert_returning`. PostgreSQL only.
    ///
    /// A row that `R` cannot read (a column it lacks, a type it cannot take) is
    /// [`Error::Unreadable`] naming the column, after the write.
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// # use atomic_upsert::sqlx;
    /// #[derive(AtomicUpsert)]
    /// #[upsert(table = "posts")]
    /// struct PostForm { #[conflict_key] ap_id: String, title: String }
    ///
    /// // The read model: `id bigserial`, `published timestamptz DEFAULT now()` are the
    /// // database's, not the form's.
    /// struct Post { id: i64, ap_id: String, title: String }
    /// impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for Post {
    ///     fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
    ///         use sqlx::Row as _;
    ///         Ok(Post { id: row.try_get("id")?, ap_id: row.try_get("ap_id")?, title: row.try_get("title")? })
    ///     }
    /// }
    /// # async fn run(pool: sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let form = PostForm { ap_id: "https://example.com/1".into(), title: "Hello".into() };
    /// let post: Option<Post> = form.upsert_returning_as(&pool).await?;
    /// # Ok(()) }
    /// ```
    fn upsert_returning_as<'c, R, E>(
        &self,
        executor: E,
    ) -> impl Future<Output = Result<Option<R>, Error>> + Send
    where
        E: sqlx::Executor<'c, Database = sqlx::Postgres>,
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        execute::returning(
            self.bind_row(sqlx::query(Self::PLAN.sql.upsert_returning_row_sql)),
            Self::KEY,
            1,
            executor,
            |stored| R::from_row(stored),
        )
    }

    /// Get-or-create, race-free: inserts the row unless one with the same conflict key
    /// exists, and returns the row as stored either way, with whether this call inserted it.
    /// An existing row is read, never written (no `updated_at` moves, no trigger fires),
    /// and a concurrent insert of the same key is no error: the loser reads the winner's
    /// row. `INSERT .. ON CONFLICT DO NOTHING RETURNING`, then a `SELECT` when the key
    /// existed; a row deleted between the two makes it try again, at most 16 times
    /// ([`Error::Contended`] after that).
    ///
    /// In a `REPEATABLE READ` or `SERIALIZABLE` transaction, a row committed by another
    /// transaction after yours began is invisible to the `SELECT`: the call ends in
    /// `Contended` (retry the transaction).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Obtained};
    /// #[derive(AtomicUpsert)]
    /// struct Account { #[conflict_key] email: String, plan: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let wanted = Account { email: "ann@example.com".into(), plan: "free".into() };
    /// let (account, how) = wanted.insert_or_get(&pool).await?;
    /// if how == Obtained::Existing {
    ///     println!("welcome back; plan {}", account.plan);
    /// }
    /// # Ok(()) }
    /// ```
    fn insert_or_get<'c, A>(
        &self,
        executor: A,
    ) -> impl Future<Output = Result<(Self, Obtained), Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
        Self: for<'r> FromStored<'r>,
    {
        execute::insert_or_get(
            self,
            Self::PLAN.sql.insert_or_get_sql,
            Self::PLAN.sql.select_by_key_sql,
            Self::KEY,
            executor,
            |row| <Self as FromStored<'_>>::from_stored(row),
        )
    }

    /// [`insert_or_get`](AtomicUpsert::insert_or_get) into another type: the row as stored
    /// (every column, `RETURNING *` / `SELECT *`), read into your read model `R`
    /// (`sqlx::FromRow`), with whether this call inserted it. The struct stays a write form.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, Obtained};
    /// # use atomic_upsert::sqlx;
    /// #[derive(AtomicUpsert)]
    /// #[upsert(table = "accounts")]
    /// struct NewAccount { #[conflict_key] email: String, plan: String }
    ///
    /// struct Account { id: i64, email: String, plan: String }
    /// impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for Account {
    ///     fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
    ///         use sqlx::Row as _;
    ///         Ok(Account { id: row.try_get("id")?, email: row.try_get("email")?, plan: row.try_get("plan")? })
    ///     }
    /// }
    /// # async fn run(pool: sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let wanted = NewAccount { email: "ann@example.com".into(), plan: "free".into() };
    /// let (account, how): (Account, Obtained) = wanted.insert_or_get_as(&pool).await?;
    /// println!("account {} ({how:?})", account.id);
    /// # Ok(()) }
    /// ```
    fn insert_or_get_as<'c, R, A>(
        &self,
        executor: A,
    ) -> impl Future<Output = Result<(R, Obtained), Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        execute::insert_or_get(
            self,
            Self::PLAN.sql.insert_or_get_row_sql,
            Self::PLAN.sql.select_row_by_key_sql,
            Self::KEY,
            executor,
            |row| R::from_row(row),
        )
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
        E: sqlx::Executor<'c>,
        E::Database: Runs<'c, Self, E>,
    {
        <E::Database as Runs<'c, Self, E>>::insert_or_ignore(self, executor)
    }

    /// Upserts a whole batch in one call, with the result of applying the rows one by one,
    /// in order, and none of the usual failures:
    ///
    /// - a key repeated in the batch never raises "ON CONFLICT DO UPDATE command cannot
    ///   affect row a second time": the last row wins (`insert_only` columns keep the
    ///   first row's value), and the counts say so (`a, b, a` on an empty table gives
    ///   inserted 2, updated 1);
    /// - rows are written in conflict-key order, so concurrent batches over overlapping
    ///   keys never deadlock on each other (a string key by its bytes, `COLLATE "C"`,
    ///   whatever the database's collation);
    /// - a batch whose keys are all distinct skips the fold: the client sorts it in that
    ///   order and one statement writes it as it comes, with no deduplication or server
    ///   sort (keys of integers, booleans, UUIDs and strings with no `sql_type` or
    ///   `collate`, and no guard);
    /// - there is no 65535-parameter limit: the statement's shape does not depend on the
    ///   batch size;
    /// - a table that watches every row (a CHECK constraint, its own or a column domain's,
    ///   or a row trigger on insert or update) sees every row as one by one would: a batch
    ///   whose keys repeat goes in rounds of distinct keys (round `r`: each key's `r`th
    ///   row), in one transaction, so a withdrawal that overdraws before a deposit fails,
    ///   and row triggers fire once per row; one catalog query tells, asked only when a
    ///   key may repeat. So does a batch whose `add` column gets amounts of both signs on
    ///   a repeated key (integers, or your type via [`Addable::sign`](crate::Addable::sign)): a running sum that
    ///   overflows fails at the row that overflows it, as one by one. Elsewhere a key's
    ///   rows fold into one;
    /// - all or nothing: a bad row fails the call and leaves the table unchanged
    ///   ([`Error::Row`] names the caller's first row at fault for a data, integrity or
    ///   trigger error, found after the failure; [`Error::Encode`] a row that cannot be
    ///   sent);
    /// - the key rules of the table's index: a row whose key has a NULL stays apart, as an
    ///   ordinary unique index never matches NULLs (see `#[upsert(nulls_not_distinct)]`);
    /// - an empty batch returns zeros without a round trip.
    ///
    /// `executor` is `&PgPool`, `&mut *conn` or `&mut *tx`. In a caller's transaction the
    /// batch runs in a savepoint on both paths, so a failed batch has one effect whatever its
    /// size: the batch leaves nothing, and the transaction goes on (two more round trips,
    /// only inside transactions). Up to [`COPY_THRESHOLD`](crate::COPY_THRESHOLD) rows (and about
    /// [`COPY_THRESHOLD_BYTES`](crate::COPY_THRESHOLD_BYTES) of row data) go as one `UNNEST` statement
    /// ([`UPSERT_MANY_SQL`](AtomicUpsert::UPSERT_MANY_SQL)); larger batches stream through
    /// binary `COPY` into a temporary table, in chunks of
    /// [`COPY_CHUNK_BYTES`](crate::COPY_CHUNK_BYTES), so memory stays bounded. See [`BulkPath`]. On a connection
    /// you lend (`&mut *conn`, `&mut *tx`) every batch takes the `UNNEST` path.
    ///
    /// Dropping the call's future part way (a timeout, `select!`) never leaves a
    /// connection out of step: on `&PgPool` the call's own connection is closed if the
    /// drop lands mid-`COPY`, and a lent connection never runs a `COPY` (a batch staged
    /// there goes by `INSERT` statements), only statements whose replies sqlx finishes
    /// reading before the connection's next use. Nothing of a dropped batch is written
    /// unless its commit had already been sent. One window is sqlx's own (0.9.0,
    /// sqlx#4393): a drop during the round trip of a `BEGIN` or `SAVEPOINT` on a connection
    /// you lend leaves sqlx's transaction depth one level off, so your own transaction can
    /// end there (its `commit` then does nothing) or stay open; where you cancel calls
    /// (timeouts, `select!`), pass the pool.
    ///
    /// On SQLite (the `sqlite` feature) the batch runs under one write lock as multi-row
    /// upserts of up to 128 rows, which SQLite applies row after row (so every strategy and
    /// guard holds as one by one), each after a count of its stored keys for the outcome;
    /// a savepoint inside the caller's transaction.
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
        A: sqlx::Acquire<'c> + Send,
        A::Database: Batches<'c, Self, A>,
    {
        <A::Database as Batches<'c, Self, A>>::upsert_many(executor, rows, BulkPath::Auto)
    }

    /// [`upsert_many`](AtomicUpsert::upsert_many) answering one [`UpsertOutcome`] per input
    /// row, in input order: exactly what calling [`upsert`](AtomicUpsert::upsert) on each
    /// row in turn would have returned. A key's first row is `Inserted` when the key was
    /// new, its later rows `Updated` (`Skipped` when there is nothing to update); rows the
    /// write left alone are `Skipped` (`Unchanged` under `skip_unchanged`), and under a
    /// `version` guard a row that does not beat every earlier version is `Skipped`. Same
    /// single statement per path as `upsert_many`, same guarantees (all or nothing, key
    /// order, no parameter limit); on SQLite the rows are applied one at a time under one
    /// write lock.
    ///
    /// With `update_where` or `skip_unchanged`, every row of a key that repeats within the
    /// batch is judged against the row stored before the batch, where one by one each row
    /// meets what the previous row left; send such rows in separate calls when that
    /// matters ([`Writer`] does, for these structs).
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, UpsertOutcome};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let rows = vec![
    ///     Tag { name: "a".into(), color: "red".into() },
    ///     Tag { name: "a".into(), color: "blue".into() },
    /// ];
    /// let outcomes = Tag::upsert_many_outcomes(&pool, &rows).await?;
    /// assert_eq!(outcomes, [UpsertOutcome::Inserted, UpsertOutcome::Updated]); // on an empty table
    /// # Ok(()) }
    /// ```
    fn upsert_many_outcomes<'c, A>(
        executor: A,
        rows: &[Self],
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send
    where
        A: sqlx::Acquire<'c> + Send,
        A::Database: Batches<'c, Self, A>,
    {
        <A::Database as Batches<'c, Self, A>>::upsert_many_outcomes(executor, rows, BulkPath::Auto)
    }

    /// [`upsert_many_outcomes`](AtomicUpsert::upsert_many_outcomes) on a chosen path; both
    /// paths give the same outcomes.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, BulkPath};
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool, rows: Vec<Tag>) -> Result<(), atomic_upsert::Error> {
    /// let outcomes = Tag::upsert_many_outcomes_via(&pool, &rows, BulkPath::Copy).await?;
    /// assert_eq!(outcomes.len(), rows.len());
    /// # Ok(()) }
    /// ```
    fn upsert_many_outcomes_via<'c, A>(
        executor: A,
        rows: &[Self],
        path: BulkPath,
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, Error>> + Send
    where
        A: sqlx::Acquire<'c> + Send,
        A::Database: Batches<'c, Self, A>,
    {
        <A::Database as Batches<'c, Self, A>>::upsert_many_outcomes(executor, rows, path)
    }

    /// Upserts every row of a stream, with memory bounded by one `COPY` chunk
    /// ([`COPY_CHUNK_BYTES`](crate::COPY_CHUNK_BYTES)) however long the stream is: the rows go by binary `COPY` into a
    /// temporary table as they come, then one statement applies them all, with
    /// [`upsert_many`](AtomicUpsert::upsert_many)'s semantics across the whole stream (a key
    /// repeated anywhere in it folds as one by one would), in one transaction (a savepoint
    /// inside yours): all or nothing. `progress` is told how many rows have been sent after
    /// each chunk, and once more at the end (before the final statement and the commit).
    /// PostgreSQL only. A stream is never presorted: the server folds it. The stream's
    /// items are rows; for a source that can fail (a file being parsed), use
    /// [`upsert_try_stream`](AtomicUpsert::upsert_try_stream), which ends the import on
    /// the first error and writes nothing (ending this stream early writes the rows so far).
    ///
    /// Dropping the future part way writes nothing. On `&PgPool` the call's connection is
    /// closed, never returned out of step. On a connection you lend (`&mut *conn`,
    /// `&mut *tx`) the rows are staged by `INSERT .. UNNEST` statements of 8,192 rows
    /// instead of `COPY` (whose end, dropped while the server acknowledges it, would leave
    /// the connection one reply behind): a drop there leaves the connection in step and
    /// usable, and your transaction goes on without the stream's rows.
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Reading { #[conflict_key] sensor: i64, value: f64 }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// // Any `Stream<Item = Reading>`: parsed from a file, received from a channel, ..
    /// let rows = futures_util::stream::iter((0..1_000_000_i32).map(|i| Reading {
    ///     sensor: i64::from(i % 1000),
    ///     value: f64::from(i),
    /// }));
    /// let outcome = Reading::upsert_stream(&pool, rows, |sent| eprintln!("{sent} rows sent")).await?;
    /// println!("{} inserted, {} updated", outcome.inserted, outcome.updated);
    /// # Ok(()) }
    /// ```
    fn upsert_stream<'c, A, S, P>(
        executor: A,
        rows: S,
        progress: P,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
        A::Connection: Acquired,
        S: futures_core::Stream<Item = Self> + Send,
        P: FnMut(u64) + Send,
    {
        stream::upsert_stream(executor, rows, |row, _| Ok(row), progress, Self::KEY)
    }

    /// [`upsert_stream`](AtomicUpsert::upsert_stream) of a stream of `Result`s (a
    /// `TryStream`: rows parsed from a file, received from a network): the first `Err`
    /// ends the import with [`Error::Source`], which names the item and keeps the error,
    /// and nothing is written (a savepoint inside your transaction: it goes on).
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// #[derive(AtomicUpsert)]
    /// struct Reading { #[conflict_key] sensor: i64, value: f64 }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let lines = ["1,20.5", "2,21.0", "3,oops"];
    /// let rows = futures_util::stream::iter(lines.map(|line| {
    ///     let (sensor, value) = line.split_once(',').ok_or("no comma")?;
    ///     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Reading {
    ///         sensor: sensor.parse()?,
    ///         value: value.parse()?,
    ///     })
    /// }));
    /// let error = Reading::upsert_try_stream(&pool, rows, |_| {}).await.unwrap_err();
    /// assert!(matches!(error, atomic_upsert::Error::Source { index: 2, .. }));
    /// # Ok(()) }
    /// ```
    fn upsert_try_stream<'c, A, S, E, P>(
        executor: A,
        rows: S,
        progress: P,
    ) -> impl Future<Output = Result<BatchOutcome, Error>> + Send
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
        A::Connection: Acquired,
        S: futures_core::Stream<Item = Result<Self, E>> + Send,
        E: Into<sqlx::error::BoxDynError> + Send,
        P: FnMut(u64) + Send,
    {
        stream::upsert_stream(
            executor,
            rows,
            |item: Result<Self, E>, index| {
                item.map_err(|source| Error::Source {
                    index,
                    source: source.into(),
                })
            },
            progress,
            Self::KEY,
        )
    }

    /// [`upsert_many`](AtomicUpsert::upsert_many) on a chosen path; both paths give the
    /// same result. For benchmarks and for tuning; `upsert_many` picks for you. The paths
    /// are PostgreSQL's: on SQLite every batch goes the one SQLite way, whatever `path` says.
    ///
    /// `BulkPath::Copy` on a connection you lend (`&mut *conn`, `&mut *tx`) stages the
    /// rows in the same temporary table by `INSERT .. UNNEST` statements of 8,192 rows, not
    /// by `COPY`: sqlx 0.9 does not count the reply of a `COPY` whose end a dropped call
    /// stopped waiting for, which would leave your connection one reply behind, and the
    /// call cannot close a connection it does not own. The result is the same; on
    /// `&PgPool` the call owns its connection (closed if dropped mid-`COPY`) and uses
    /// `COPY`.
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
        A: sqlx::Acquire<'c> + Send,
        A::Database: Batches<'c, Self, A>,
    {
        <A::Database as Batches<'c, Self, A>>::upsert_many(executor, rows, path)
    }

    /// A [`Writer`] on `pool`: a cloneable handle whose
    /// [`upsert`](Writer::upsert) coalesces concurrent calls into batch statements, each
    /// call answered with its own row's outcome once its batch has committed.
    ///
    /// ```no_run
    /// # use atomic_upsert::{AtomicUpsert, WriterConfig};
    /// # #[derive(AtomicUpsert)]
    /// # struct PageViews { #[conflict_key] url: String, #[upsert(add)] views: i64 }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// let writer = PageViews::writer(&pool, WriterConfig::default());
    /// writer.upsert(PageViews { url: "/".into(), views: 1 }).await?;
    /// writer.shutdown().await;
    /// # Ok(()) }
    /// ```
    #[must_use]
    fn writer(pool: &sqlx::PgPool, config: WriterConfig) -> Writer<Self>
    where
        Self: 'static,
    {
        Writer::new(pool.clone(), config)
    }

    /// Checks the struct against its live table before the first write, and reports
    /// **every** mismatch at once as [`Error::SchemaMismatch`]: a missing table or column, a
    /// field type sqlx cannot send to or read from its column (including ones PostgreSQL
    /// would convert silently, such as an `i64` into `text`), an `Option` field on a
    /// `NOT NULL` column or a non-`Option` one on a nullable column, a `NOT NULL` column the
    /// struct never writes, a conflict target without a matching unique index or constraint
    /// (partial-index predicate and partition key included), an `Option` key on an index
    /// whose NULLs never conflict, a key whose equality is not bytewise (`citext`), and
    /// strategy or guard columns of the wrong type (`add` on `text`, `merge` on `json`,
    /// `skip_unchanged` over a type without `=`). Each line of the report names the field,
    /// the column, what the struct needs, what the table has, and the fix.
    ///
    /// It also has PostgreSQL plan the struct's statements (`EXPLAIN` with typed NULLs), so
    /// anything the server would reject at the first write is reported now. Nothing is
    /// written: the checks run in a transaction (a savepoint inside yours) that is rolled
    /// back. `executor` is `&PgPool`, `&mut *conn` or `&mut *tx`.
    ///
    /// ```no_run
    /// # use atomic_upsert::AtomicUpsert;
    /// # #[derive(AtomicUpsert)]
    /// # struct Tag { #[conflict_key] name: String, color: String }
    /// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
    /// Tag::verify(&pool).await?; // at startup: Err(Error::SchemaMismatch(report)) lists every problem
    /// # Ok(()) }
    /// ```
    fn verify<'c, A>(executor: A) -> impl Future<Output = Result<(), Error>> + Send
    where
        A: sqlx::Acquire<'c> + Send,
        A::Database: Batches<'c, Self, A>,
    {
        <A::Database as Batches<'c, Self, A>>::verify(executor)
    }

    /// The statements this struct's calls send on database `DB`: what to print, log or
    /// review for the backend you call (the `*_SQL` constants are PostgreSQL's).
    ///
    /// ```
    /// use atomic_upsert::{AtomicUpsert, sqlx::Postgres};
    ///
    /// #[derive(AtomicUpsert)]
    /// struct Tag { #[conflict_key] name: String, color: String }
    ///
    /// println!("{}", Tag::statements::<Postgres>().upsert);
    /// // With the `sqlite` feature: Tag::statements::<atomic_upsert::sqlx::Sqlite>()
    /// ```
    #[must_use]
    fn statements<DB: Statements<Self>>() -> Sql {
        DB::statements()
    }
}
