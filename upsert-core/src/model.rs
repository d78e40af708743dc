//! The model of a derived struct, in plain strings: the table, its columns (each with
//! its role, `role.rs`), the conflict target and the guards. No syn,
//! no spans: the derive builds it from the attributes, the builders read it.

use crate::role::{Insert, Role, Update};

/// One column of the statement.
///
/// ```
/// use upsert_core::{Column, Role};
/// let column = Column::new("views", Role::Write).unwrap();
/// assert_eq!(column.name, "views");
/// assert!(Column::new("cache", Role::Skip).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Column<'a> {
    /// The column name, unquoted.
    pub name: &'a str,
    /// The field's role.
    pub role: Role,
    /// What the column receives on insert.
    pub insert: Insert,
    /// What the column receives on conflict.
    pub update: Update,
    /// In a batch, the value is cast to this SQL type first (`#[upsert(sql_type)]`), so keys
    /// compare with the column's own equality (`citext`).
    pub cast: Option<&'a str>,
    /// In a batch, the value takes this collation first (`#[upsert(collate)]`), so keys
    /// compare as the column's nondeterministic collation does.
    pub collate: Option<&'a str>,
    /// A PostgreSQL array column (`Vec<T>`). On the `UNNEST` path a batch cannot send it
    /// as one array per column (PostgreSQL has no arrays of arrays of varying length), so
    /// it is sent as every row's elements in one flat array plus each row's bounds in it.
    pub array: bool,
    /// `#[upsert(default = "..")]`: the SQL expression a `None` inserts
    /// (`COALESCE(value, default)`), the column's own default.
    pub default: Option<&'a str>,
    /// `#[upsert(update_from = "sent")]`: an update writes the value the caller sent, not
    /// `EXCLUDED.c` (which a `BEFORE INSERT` trigger may have rewritten).
    pub sent: bool,
    /// A key of a Rust string type with no `sql_type` or `collate`: a batch orders it by
    /// its bytes (`COLLATE "C"`), the order the client sorts it in ([`Model::presorted`]),
    /// whatever the database's collation. Its equality is unchanged (a deterministic
    /// collation's equality is byte equality).
    pub sorts_by_bytes: bool,
}

impl<'a> Column<'a> {
    /// Whether an update reads the value the caller sent rather than `EXCLUDED`'s:
    /// `update_from = "sent"`, or a `default` field (whose `None` became the default
    /// there).
    ///
    /// ```
    /// use upsert_core::{Column, Role};
    /// assert!(Column::new("read", Role::Defaulted).unwrap().reads_sent());
    /// assert!(!Column::new("read", Role::Write).unwrap().reads_sent());
    /// ```
    #[must_use]
    pub fn reads_sent(&self) -> bool {
        self.sent || self.update == Update::ReplaceIfSent
    }

    /// The column a field with `role` writes; `None` for a skipped field.
    #[must_use]
    pub fn new(name: &'a str, role: Role) -> Option<Self> {
        let (insert, update) = role.column()?;
        Some(Column {
            name,
            role,
            insert,
            update,
            cast: None,
            collate: None,
            array: false,
            default: None,
            sent: false,
            sorts_by_bytes: false,
        })
    }
}

/// The target table.
///
/// ```
/// let table = upsert_core::Table { schema: Some("app"), name: "stats" };
/// assert_eq!(table.name, "stats");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// The schema, if the struct names one; else the `search_path` decides.
    pub schema: Option<&'a str>,
    /// The table name, unquoted.
    pub name: &'a str,
}

/// What `ON CONFLICT` matches.
///
/// ```
/// use upsert_core::ConflictTarget;
/// let partial = ConflictTarget::Keys { predicate: Some("NOT deleted") };
/// assert!(matches!(partial, ConflictTarget::Keys { .. }));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ConflictTarget<'a> {
    /// `ON CONFLICT (keys)`, with the predicate of a partial unique index if any.
    Keys {
        /// `conflict_where`: the partial index's predicate (raw SQL).
        predicate: Option<&'a str>,
    },
    /// `ON CONFLICT ON CONSTRAINT name`.
    Constraint(&'a str),
}

/// Conditions under which an existing row is updated; all must hold.
///
/// ```
/// let guard = upsert_core::Guard { version: Some("seq"), ..Default::default() };
/// assert!(guard.any());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Guard<'a> {
    /// The version column: update only when the incoming value is greater.
    pub version: Option<&'a str>,
    /// A raw SQL predicate (`update_where`).
    pub update_where: Option<&'a str>,
    /// Update only when some compared column would change.
    pub skip_unchanged: bool,
}

impl Guard<'_> {
    /// Whether an existing row can be left unwritten by a guard.
    #[must_use]
    pub fn any(&self) -> bool {
        self.version.is_some() || self.update_where.is_some() || self.skip_unchanged
    }
}

/// What it means when the single-row upsert returns no written row: the rule shared by the
/// statement builder (which adds an "unchanged" probe for [`Unwritten::Told`]) and the
/// runtime (which turns the answer into an outcome).
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table, Unwritten};
///
/// let fields = [("k", Role::Key), ("v", Role::Write), ("seq", Role::Version)];
/// let table = Table { schema: None, name: "t" };
/// let target = ConflictTarget::Keys { predicate: None };
/// assert_eq!(Model::new(table, target, fields, None, true).unwritten(), Unwritten::Told);
/// assert_eq!(Model::new(table, target, fields, None, false).unwritten(), Unwritten::Skipped);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unwritten {
    /// Nothing to update, or a `version`/`update_where` guard held the row back.
    Skipped,
    /// `skip_unchanged` alone: the row already held every value.
    Unchanged,
    /// `skip_unchanged` beside another guard: the statement tells the two apart, with one
    /// NULL row when the stored row already held every value and no row when skipped.
    Told,
}

/// How the conflict key treats NULLs, which decides how a batch groups rows whose key has a
/// NULL: as PostgreSQL's unique index would.
///
/// ```
/// use upsert_core::NullKeys;
/// assert_eq!(NullKeys::of(true, false), NullKeys::Distinct);
/// assert_eq!(NullKeys::of(true, true), NullKeys::NotDistinct);
/// assert_eq!(NullKeys::of(false, false), NullKeys::Never);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum NullKeys {
    /// No key field can be NULL (none is an `Option`).
    #[default]
    Never,
    /// A key can be NULL and NULLs are distinct (an ordinary unique index): a row with a
    /// NULL key never conflicts, so a batch keeps each such row apart.
    Distinct,
    /// A key can be NULL and NULLs conflict (`NULLS NOT DISTINCT`,
    /// `#[upsert(nulls_not_distinct)]`): a batch folds them like any key.
    NotDistinct,
}

impl NullKeys {
    /// From whether a key field is an `Option`, and `#[upsert(nulls_not_distinct)]`.
    #[must_use]
    pub fn of(optional_key: bool, nulls_not_distinct: bool) -> Self {
        match (optional_key, nulls_not_distinct) {
            (false, _) => NullKeys::Never,
            (true, false) => NullKeys::Distinct,
            (true, true) => NullKeys::NotDistinct,
        }
    }
}

/// One field as the model needs it: its column and role, and what only its attributes and
/// type say (an `Option`, a batch cast or collation).
///
/// ```
/// use upsert_core::{FieldDef, Role};
/// let key = FieldDef {
///     column: "email", role: Role::Key, optional: false, cast: Some("citext"), collate: None,
///     array: false, text: true, default: None, sent: false,
/// };
/// assert_eq!(key.column, "email");
/// ```
#[derive(Clone, Copy, Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "what the attributes and type say, each a yes/no"
)]
pub struct FieldDef<'a> {
    /// The column.
    pub column: &'a str,
    /// The field's role.
    pub role: Role,
    /// Declared as `Option<..>`.
    pub optional: bool,
    /// `#[upsert(sql_type)]`.
    pub cast: Option<&'a str>,
    /// `#[upsert(collate)]`.
    pub collate: Option<&'a str>,
    /// Declared as `Vec<T>` or `Option<Vec<T>>` (not `Vec<u8>`, which is `bytea`): a
    /// PostgreSQL array column.
    pub array: bool,
    /// Declared as a Rust string type ([`is_text_type`](crate::is_text_type)).
    pub text: bool,
    /// `#[upsert(default = "..")]`: what a `None` inserts.
    pub default: Option<&'a str>,
    /// `#[upsert(update_from = "sent")]`.
    pub sent: bool,
}

/// Everything a statement is built from.
///
/// ```
/// use upsert_core::{ConflictTarget, Model, Role, Table};
///
/// let model = Model::new(
///     Table { schema: None, name: "t" },
///     ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("cache", Role::Skip), ("v", Role::Write)],
///     None,
///     false,
/// );
/// assert_eq!(model.columns.len(), 2);
/// assert!(model.has_updates());
/// ```
#[derive(Clone, Debug)]
pub struct Model<'a> {
    /// The target table.
    pub table: Table<'a>,
    /// The written columns, in field order.
    pub columns: Vec<Column<'a>>,
    /// What `ON CONFLICT` matches.
    pub target: ConflictTarget<'a>,
    /// The update's guards.
    pub guard: Guard<'a>,
    /// How the key treats NULLs ([`Model::with_null_keys`]).
    pub null_keys: NullKeys,
    /// How `RETURNING` tells an inserted row from an updated one ([`Model::with_flag`]).
    pub flag: InsertFlag,
}

/// How a PostgreSQL statement tells, in `RETURNING`, a row it inserted from a row it
/// updated.
///
/// `xmax` is the cheapest, but PostgreSQL refuses system columns in the `RETURNING` of a
/// partitioned table ("cannot retrieve a system column in this context", 0A000). A
/// partitioned table's statements use [`InsertFlag::Old`] on PostgreSQL 18 and later and
/// [`InsertFlag::Marker`] before (the runtime picks by the connection's server version).
/// Statements that cannot update (`DO NOTHING`) return `true` under either: a returned
/// row was inserted.
///
/// ```
/// use upsert_core::{ConflictTarget, InsertFlag, Model, Postgres, Role, Table, single};
/// let model = Model::new(
///     Table { schema: None, name: "t" },
///     ConflictTarget::Keys { predicate: None },
///     [("k", Role::Key), ("v", Role::Write)],
///     None,
///     false,
/// );
/// assert!(single::upsert(&Postgres, &model).ends_with("RETURNING (xmax = 0)"));
/// let old = model.clone().with_flag(InsertFlag::Old);
/// assert!(single::upsert(&Postgres, &old).ends_with("RETURNING (old IS NOT DISTINCT FROM NULL)"));
/// let marked = model.with_flag(InsertFlag::Marker);
/// assert!(single::upsert(&Postgres, &marked).contains("set_config('atomic_upsert.updated'"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InsertFlag {
    /// `(xmax = 0)`: an update stamps the updating transaction's id in the new row
    /// version's `xmax`. Every table but a partitioned one.
    #[default]
    Xmax,
    /// `(old IS NOT DISTINCT FROM NULL)`: PostgreSQL 18's `RETURNING old`, which is the
    /// NULL value (not a row of NULLs) when the row was inserted. Any table, PostgreSQL 18+.
    Old,
    /// PostgreSQL 15 to 17 on a partitioned table: the `DO UPDATE`'s `WHERE` records the
    /// stored row's key in the transaction-local setting `atomic_upsert.updated` when it
    /// lets the update through, and `RETURNING` compares the written row's key with it
    /// (and clears it): equal means updated. Each row's `RETURNING` runs right after that
    /// row's write, and keys are unique within a statement, so the answer is exact; a row
    /// whose update a trigger cancels returns nothing and leaves a key no later row has.
    Marker,
}

impl InsertFlag {
    /// The transaction-local setting [`InsertFlag::Marker`] writes.
    pub const MARKER_SETTING: &'static str = "atomic_upsert.updated";

    /// The flag of a struct's own statements: [`InsertFlag::Marker`] for a partitioned
    /// table (it runs on every supported server; PostgreSQL 18 gets [`InsertFlag::Old`]
    /// statements beside them), else [`InsertFlag::Xmax`]. The derive and `verify` both
    /// ask here.
    ///
    /// ```
    /// use upsert_core::InsertFlag;
    /// assert_eq!(InsertFlag::of_table(true), InsertFlag::Marker);
    /// assert_eq!(InsertFlag::of_table(false), InsertFlag::Xmax);
    /// ```
    #[must_use]
    pub fn of_table(partitioned: bool) -> Self {
        if partitioned {
            InsertFlag::Marker
        } else {
            InsertFlag::Xmax
        }
    }
}

impl<'a> Model<'a> {
    /// The model of fields `(column, role)` in field order; the `version` guard comes
    /// from the field whose role is [`Role::Version`].
    pub fn new(
        table: Table<'a>,
        target: ConflictTarget<'a>,
        fields: impl IntoIterator<Item = (&'a str, Role)>,
        update_where: Option<&'a str>,
        skip_unchanged: bool,
    ) -> Self {
        let columns: Vec<Column<'a>> = fields
            .into_iter()
            .filter_map(|(name, role)| Column::new(name, role))
            .collect();
        let version = columns
            .iter()
            .find(|c| c.role == Role::Version)
            .map(|c| c.name);
        Model {
            table,
            columns,
            target,
            guard: Guard {
                version,
                update_where,
                skip_unchanged,
            },
            null_keys: NullKeys::Never,
            flag: InsertFlag::Xmax,
        }
    }

    /// The model whose statements tell inserts from updates with `flag` (see
    /// [`InsertFlag`]).
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, InsertFlag, Model, Role, Table};
    /// let model = Model::new(
    ///     Table { schema: None, name: "t" },
    ///     ConflictTarget::Keys { predicate: None },
    ///     [("k", Role::Key), ("v", Role::Write)],
    ///     None,
    ///     false,
    /// )
    /// .with_flag(InsertFlag::Old);
    /// assert_eq!(model.flag, InsertFlag::Old);
    /// ```
    #[must_use]
    pub fn with_flag(mut self, flag: InsertFlag) -> Self {
        self.flag = flag;
        self
    }

    /// The model with `column`'s batch values cast to `cast` and given `collate` before they
    /// are compared (`#[upsert(sql_type)]`, `#[upsert(collate)]`).
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, Model, Role, Table};
    /// let model = Model::new(
    ///     Table { schema: None, name: "t" },
    ///     ConflictTarget::Keys { predicate: None },
    ///     [("email", Role::Key)],
    ///     None,
    ///     false,
    /// )
    /// .with_input("email", Some("citext"), None);
    /// assert_eq!(model.columns[0].cast, Some("citext"));
    /// ```
    #[must_use]
    pub fn with_input(
        mut self,
        column: &str,
        cast: Option<&'a str>,
        collate: Option<&'a str>,
    ) -> Self {
        for c in self.columns.iter_mut().filter(|c| c.name == column) {
            c.cast = cast;
            c.collate = collate;
        }
        self
    }

    /// The model of a derived struct: [`Model::new`] over `fields`, keys that are `Option`s
    /// treated as `nulls_not_distinct` says ([`NullKeys::of`]), and each field's batch
    /// conversion ([`Model::with_input`]). The derive (from the attributes) and the
    /// runtime's `verify` (from the generated plan) both build it here.
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, FieldDef, Model, NullKeys, Role, Table};
    /// let fields = [
    ///     FieldDef { column: "slot", role: Role::Key, optional: true, cast: None, collate: None, array: false, text: false, default: None, sent: false },
    ///     FieldDef { column: "v", role: Role::Write, optional: false, cast: None, collate: None, array: false, text: false, default: None, sent: false },
    /// ];
    /// let model = Model::of_fields(
    ///     Table { schema: None, name: "t" },
    ///     ConflictTarget::Keys { predicate: None },
    ///     &fields,
    ///     None,
    ///     false,
    ///     false,
    /// );
    /// assert_eq!(model.null_keys, NullKeys::Distinct);
    /// ```
    #[must_use]
    pub fn of_fields(
        table: Table<'a>,
        target: ConflictTarget<'a>,
        fields: &[FieldDef<'a>],
        update_where: Option<&'a str>,
        skip_unchanged: bool,
        nulls_not_distinct: bool,
    ) -> Self {
        let model = Model::new(
            table,
            target,
            fields.iter().map(|f| (f.column, f.role)),
            update_where,
            skip_unchanged,
        )
        .with_null_keys(NullKeys::of(
            fields.iter().any(|f| f.role == Role::Key && f.optional),
            nulls_not_distinct,
        ));
        let mut model = fields
            .iter()
            .filter(|f| f.cast.is_some() || f.collate.is_some())
            .fold(model, |model, f| {
                model.with_input(f.column, f.cast, f.collate)
            });
        for column in &mut model.columns {
            let field = fields.iter().find(|f| f.column == column.name);
            column.array = field.is_some_and(|f| f.array);
            column.default = field.and_then(|f| f.default);
            column.sent = field.is_some_and(|f| f.sent);
            column.sorts_by_bytes = column.update == Update::Key
                && column.cast.is_none()
                && column.collate.is_none()
                && field.is_some_and(|f| f.text);
        }
        model
    }

    /// Whether a batch whose keys are distinct may go presorted
    /// ([`bulk::upsert_many_presorted`](crate::postgres::bulk::upsert_many_presorted)): no guard, and
    /// no key converted for the batch (`sql_type`, `collate`), so that keys the client finds
    /// distinct are distinct for the server too. The runtime still needs every key type to
    /// have a client order.
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, Model, Role, Table};
    /// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
    ///     [("k", Role::Key), ("v", Role::Write)], None, false);
    /// assert!(model.presorted());
    /// assert!(!model.with_input("k", Some("citext"), None).presorted());
    /// ```
    #[must_use]
    pub fn presorted(&self) -> bool {
        !self.guard.any()
            && self
                .keys()
                .iter()
                .all(|c| c.cast.is_none() && c.collate.is_none() && !c.array)
    }

    /// The model with keys that can be NULL, treated as `null_keys` says.
    #[must_use]
    pub fn with_null_keys(mut self, null_keys: NullKeys) -> Self {
        self.null_keys = null_keys;
        self
    }

    /// The conflict-key columns, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<&Column<'a>> {
        self.columns
            .iter()
            .filter(|c| c.update == Update::Key)
            .collect()
    }

    /// The columns sent as parameters, in parameter order.
    #[must_use]
    pub fn bound(&self) -> Vec<&Column<'a>> {
        self.columns
            .iter()
            .filter(|c| c.insert == Insert::Bind)
            .collect()
    }

    /// Whether an update reads a value the caller sent ([`Column::reads_sent`]).
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, Model, Role, Table};
    /// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
    ///     [("k", Role::Key), ("read", Role::Defaulted)], None, false);
    /// assert!(model.reads_sent());
    /// ```
    #[must_use]
    pub fn reads_sent(&self) -> bool {
        self.columns.iter().any(Column::reads_sent)
    }

    /// Whether a conflict updates anything (else the statement is `DO NOTHING`).
    #[must_use]
    pub fn has_updates(&self) -> bool {
        self.columns.iter().any(|c| c.update.is_set())
    }

    /// Whether applying a row twice leaves what applying it once leaves, so that a call whose
    /// fate is unknown may be retried: true unless an `add` counter would add twice (a
    /// `version` guard makes the replay stale, so it is idempotent again).
    ///
    /// ```
    /// use upsert_core::{ConflictTarget, Model, Role, Strategy, Table};
    /// let t = Table { schema: None, name: "t" };
    /// let keys = ConflictTarget::Keys { predicate: None };
    /// let add = [("k", Role::Key), ("n", Role::Combine(Strategy::Add))];
    /// assert!(!Model::new(t, keys, add, None, false).idempotent());
    /// let guarded = [("k", Role::Key), ("n", Role::Combine(Strategy::Add)), ("v", Role::Version)];
    /// assert!(Model::new(t, keys, guarded, None, false).idempotent());
    /// ```
    #[must_use]
    pub fn idempotent(&self) -> bool {
        self.guard.version.is_some()
            || !self
                .columns
                .iter()
                .any(|c| matches!(c.update, Update::Combine(s) if s.is_add()))
    }

    /// The row counts of a backend's multi-row statements, largest first: powers of two
    /// from `max_rows` (fewer when the bound columns would pass `max_parameters`) down to
    /// one. A batch goes as full statements of the largest, then the remainder's binary
    /// digits, so every statement is built at compile time
    /// ([`sqlite::bulk::chunk_rows`](crate::sqlite::bulk::chunk_rows),
    /// [`mysql::statements::chunk_rows`](crate::mysql::statements::chunk_rows)).
    pub(crate) fn chunk_rows(&self, max_rows: usize, max_parameters: usize) -> Vec<usize> {
        let columns = self.bound().len().max(1);
        let mut rows = max_rows.min(max_parameters / columns).max(1);
        // Down to a power of two.
        rows = 1 << rows.ilog2();
        let mut sizes = Vec::new();
        while rows > 0 {
            sizes.push(rows);
            rows /= 2;
        }
        sizes
    }

    /// What no written row from [`single::upsert`](crate::single::upsert) means.
    #[must_use]
    pub fn unwritten(&self) -> Unwritten {
        let guard = self.guard;
        let other_guard = guard.version.is_some() || guard.update_where.is_some();
        match (self.has_updates() && guard.skip_unchanged, other_guard) {
            (false, _) => Unwritten::Skipped,
            (true, false) => Unwritten::Unchanged,
            (true, true) => Unwritten::Told,
        }
    }
}

/// Models for the builders' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{ConflictTarget, Model, Role, Table};

    /// `ON CONFLICT (keys)` without a predicate.
    pub const KEYS: ConflictTarget<'static> = ConflictTarget::Keys { predicate: None };

    /// A table without a schema.
    pub fn table(name: &str) -> Table<'_> {
        Table { schema: None, name }
    }

    /// The model of `fields` on `name`, conflict on the keys, no guards.
    pub fn plain<'a>(
        name: &'a str,
        fields: impl IntoIterator<Item = (&'a str, Role)>,
    ) -> Model<'a> {
        Model::new(table(name), KEYS, fields, None, false)
    }
}

/// A batch's rows by what applying them one by one would have done to each.
///
/// ```
/// let tally = upsert_core::Tally { inserted: 1, updated: 0, skipped: 2 };
/// assert_eq!(tally.inserted + tally.updated + tally.skipped, 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Tally {
    /// Rows that inserted their key.
    pub inserted: u64,
    /// Rows that updated their key.
    pub updated: u64,
    /// Rows that changed nothing.
    pub skipped: u64,
}
