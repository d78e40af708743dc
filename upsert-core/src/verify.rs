//! The schema rules: what a struct needs from its table, checked against what the table has
//! ([`TableInfo`]). The runtime's `verify` runs them on the live catalog; the derive runs
//! them at compile time on a snapshot. Each broken rule is one [`Mismatch`] naming the field,
//! the column, what the struct needs, what the table has, and the fix.

use std::fmt;

use crate::dialect::Dialect;
use crate::model::Strategy;
use crate::model::{
    ConflictTarget, FieldDef, Insert, InsertFlag, Model, NullKeys, Role, Table, Update,
};
use crate::schema::{ColumnInfo, IndexInfo, RelKind, TableInfo};

/// PostgreSQL truncates identifiers to this many bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// What the struct says about one field, besides its role.
///
/// ```
/// use upsert_core::{Role, verify::FieldFacts};
/// let f = FieldFacts { field: "views", column: "views", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, default: None, sent: false };
/// assert_eq!(f.column, "views");
/// ```
#[derive(Clone, Copy, Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "what the struct says of a field, each a yes/no"
)]
pub struct FieldFacts<'a> {
    /// The Rust field name.
    pub field: &'a str,
    /// Its column.
    pub column: &'a str,
    /// Its role.
    pub role: Role,
    /// Declared as `Option<..>`: may be NULL.
    pub optional: bool,
    /// The SQL type its values are sent as, when known (for the `ADD COLUMN` fix).
    pub sql_type: Option<&'a str>,
    /// `#[upsert(sql_type)]`: what a batch casts its values to.
    pub cast: Option<&'a str>,
    /// `#[upsert(collate)]`: the collation a batch gives its values.
    pub collate: Option<&'a str>,
    /// A PostgreSQL array column ([`is_array_type`](crate::is_array_type)).
    pub array: bool,
    /// A Rust string type ([`is_text_type`](crate::is_text_type)).
    pub text: bool,
    /// `#[upsert(default = "..")]`: what a `None` inserts.
    pub default: Option<&'a str>,
    /// `#[upsert(update_from = "sent")]`.
    pub sent: bool,
}

impl<'a> FieldFacts<'a> {
    /// What the model needs of the field.
    ///
    /// ```
    /// use upsert_core::{Role, verify::FieldFacts};
    /// let f = FieldFacts { field: "k", column: "k", role: Role::Key, optional: true, sql_type: None, cast: None, collate: None, array: false, text: false, default: None, sent: false };
    /// assert!(f.def().optional);
    /// ```
    #[must_use]
    pub fn def(&self) -> FieldDef<'a> {
        FieldDef {
            column: self.column,
            role: self.role,
            optional: self.optional,
            cast: self.cast,
            collate: self.collate,
            array: self.array,
            text: self.text,
            default: self.default,
            sent: self.sent,
        }
    }
}

/// Which rule a [`Mismatch`] breaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Kind {
    /// The table does not exist.
    MissingTable,
    /// The name is a view or another relation that takes no `ON CONFLICT`.
    NotATable,
    /// A field's column does not exist.
    MissingColumn,
    /// A written column is generated.
    GeneratedColumn,
    /// The field's Rust type does not match the column's type.
    ColumnType,
    /// An `Option` field on a `NOT NULL` column.
    NullableField,
    /// A non-`Option` field read back from a nullable column.
    NullableColumn,
    /// A `NOT NULL` column without default that the struct never writes.
    UnwrittenNotNull,
    /// A strategy, version or timestamp on a column type it cannot work with.
    StrategyType,
    /// `skip_unchanged` over a column type without equality.
    NoEquality,
    /// No unique index or constraint matches the conflict target.
    NoUniqueIndex,
    /// The matching unique index is partial and `conflict_where` does not match it.
    PartialIndex,
    /// The named constraint is missing or has other columns.
    Constraint,
    /// A nullable key on an index where NULLs never conflict.
    NullableKey,
    /// A key column whose equality is not bytewise (`citext`, a nondeterministic collation).
    KeyEquality,
    /// PostgreSQL rejected one of the struct's statements.
    Statement,
    /// Two identifiers PostgreSQL would truncate to the same name.
    Truncation,
    /// A partitioned table, and the struct does not say `#[upsert(partitioned)]`: its
    /// statements read `xmax`, which PostgreSQL refuses there at the first write.
    Partitioned,
    /// A partitioned table with no partition: every row fails at the first write.
    NoPartition,
    /// The only unique constraint on the key is `DEFERRABLE`, which `ON CONFLICT` cannot use
    /// as an arbiter (55000, or 42P10, at the first write).
    DeferrableConstraint,
    /// `conflict_where` names a predicate, but the key's unique index is not partial:
    /// PostgreSQL ignores the predicate, and the statement guards nothing with it.
    IgnoredPredicate,
    /// `#[upsert(default = "..")]` is not the column's own default: a `None` would insert
    /// another value than the application's other inserts.
    ColumnDefault,
}

/// Where in the struct a mismatch belongs (the derive points its compile error there).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Site {
    /// The struct's table (`#[upsert(table)]`, else the struct name).
    Table,
    /// The field at this index.
    Field(usize),
    /// The conflict target (`#[conflict_key]`, `constraint`, `conflict_where`).
    Target,
}

/// One way the struct and its table disagree.
///
/// ```
/// use upsert_core::verify::{Kind, Mismatch, Site};
/// let m = Mismatch {
///     kind: Kind::MissingColumn,
///     site: Site::Field(0),
///     field: Some("views".into()),
///     column: Some("views".into()),
///     needs: "a column".into(),
///     has: "no such column".into(),
///     fix: "ALTER TABLE ..".into(),
/// };
/// assert_eq!(m.to_string(), r#"field `views`, column "views": needs a column; found no such column; fix: ALTER TABLE .."#);
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Mismatch {
    /// The rule.
    pub kind: Kind,
    /// Where it belongs.
    pub site: Site,
    /// The Rust field, if one is at fault.
    pub field: Option<String>,
    /// The column, if one is concerned.
    pub column: Option<String>,
    /// What the struct needs.
    pub needs: String,
    /// What the table has instead (what was found).
    pub has: String,
    /// How to fix it: SQL to run or an attribute to change.
    pub fix: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.field, &self.column) {
            (Some(field), Some(column)) => write!(f, "field `{field}`, column \"{column}\": ")?,
            (Some(field), None) => write!(f, "field `{field}`: ")?,
            (None, Some(column)) => write!(f, "column \"{column}\": ")?,
            (None, None) => {}
        }
        write!(
            f,
            "needs {}; found {}; fix: {}",
            self.needs, self.has, self.fix
        )
    }
}

/// `CREATE UNIQUE INDEX` for `columns` of `table` (with `predicate` for a partial index),
/// named `<table>_<columns>_key`, the first part cut so that the whole fits PostgreSQL's 63
/// bytes and keeps its `_key` suffix (as PostgreSQL names indexes): it runs for any length,
/// and never takes the name of a 63-byte table.
///
/// ```
/// use upsert_core::{Postgres, Table, verify::create_unique_index};
/// let table = Table { schema: None, name: "strava_stats" };
/// assert_eq!(
///     create_unique_index(&Postgres, &table, &["stats_type"], None),
///     r#"CREATE UNIQUE INDEX "strava_stats_stats_type_key" ON "strava_stats" ("stats_type");"#
/// );
/// let long = "t".repeat(63);
/// let fix = create_unique_index(&Postgres, &Table { schema: None, name: &long }, &["id"], None);
/// assert!(fix.starts_with(&format!("CREATE UNIQUE INDEX \"{}_key\" ON", "t".repeat(59))));
/// ```
#[must_use]
pub fn create_unique_index(
    dialect: &dyn Dialect,
    table: &Table,
    columns: &[&str],
    predicate: Option<&str>,
) -> String {
    let stem = format!("{}_{}", table.name, columns.join("_"));
    let name = format!(
        "{}_key",
        truncate_to(&stem, MAX_IDENTIFIER_BYTES - "_key".len())
    );
    let qualified = dialect.quote_table(table);
    let columns: Vec<String> = columns.iter().map(|c| dialect.quote_ident(c)).collect();
    let predicate = predicate.map_or_else(String::new, |p| format!(" WHERE ({p})"));
    format!(
        "CREATE UNIQUE INDEX {} ON {qualified} ({}){predicate};",
        dialect.quote_ident(&name),
        columns.join(", ")
    )
}

/// `name` as PostgreSQL stores it: at most 63 bytes, cut on a character boundary.
///
/// ```
/// let long = "x".repeat(70);
/// assert_eq!(upsert_core::verify::truncate(&long).len(), 63);
/// assert_eq!(upsert_core::verify::truncate("é".repeat(40).as_str()).len(), 62);
/// ```
#[must_use]
pub fn truncate(name: &str) -> &str {
    truncate_to(name, MAX_IDENTIFIER_BYTES)
}

fn truncate_to(name: &str, bytes: usize) -> &str {
    if name.len() <= bytes {
        return name;
    }
    let mut end = bytes;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A predicate reduced for comparison: no whitespace, parentheses or double quotes, lower
/// case (PostgreSQL prints `NOT deleted` back as `(NOT deleted)`).
#[must_use]
pub fn normalize_predicate(predicate: &str) -> String {
    predicate
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Pairs of fields whose columns PostgreSQL would truncate to the same 63 bytes: each as
/// `(first field index, second field index)`.
///
/// ```
/// let a = format!("{}_a", "x".repeat(63));
/// let b = format!("{}_b", "x".repeat(63));
/// assert_eq!(upsert_core::verify::truncation_clashes(&[&a, "y", &b]), vec![(0, 2)]);
/// ```
#[must_use]
pub fn truncation_clashes(columns: &[&str]) -> Vec<(usize, usize)> {
    let mut clashes = Vec::new();
    for (j, later) in columns.iter().enumerate() {
        if let Some(i) = columns[..j]
            .iter()
            .position(|earlier| earlier != later && truncate(earlier) == truncate(later))
        {
            clashes.push((i, j));
        }
    }
    clashes
}

/// Every way the struct (`model`, `fields` in field order) and `table` (`None`: no such
/// table) disagree.
///
/// ```
/// use upsert_core::schema::{ColumnInfo, RelKind, TableInfo};
/// use upsert_core::verify::{FieldFacts, Kind, check};
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
///
/// let fields = [
///     FieldFacts { field: "name", column: "name", role: Role::Key, optional: false, sql_type: Some("TEXT"), cast: None, collate: None, array: false, text: true, default: None, sent: false },
///     FieldFacts { field: "views", column: "views", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, default: None, sent: false },
/// ];
/// let model = Model::new(
///     Table { schema: None, name: "tag" },
///     ConflictTarget::Keys { predicate: None },
///     fields.iter().map(|f| (f.column, f.role)),
///     None,
///     false,
/// );
/// let mut table = TableInfo::new("public", "tag", RelKind::Table);
/// let mut name = ColumnInfo::new("name", "text", "text", 25, 'S');
/// name.not_null = true;
/// table.columns.push(name);
/// let kinds: Vec<Kind> = check(&Postgres, &model, &fields, Some(&table)).iter().map(|m| m.kind).collect();
/// assert_eq!(kinds, [Kind::MissingColumn, Kind::NoUniqueIndex]);
/// ```
#[must_use]
pub fn check(
    dialect: &dyn Dialect,
    model: &Model,
    fields: &[FieldFacts],
    table: Option<&TableInfo>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let name = dialect.quote_table(&model.table);
    let Some(table) = table else {
        out.push(Mismatch {
            kind: Kind::MissingTable,
            site: Site::Table,
            field: None,
            column: None,
            needs: format!("table {name}"),
            has: "no such table".into(),
            fix: format!(
                "create it, or name the right one with #[upsert(table = \"..\")]{}",
                if model.table.schema.is_none() {
                    " and #[upsert(schema = \"..\")] (unqualified names follow the connection's search_path)"
                } else {
                    ""
                }
            ),
        });
        return out;
    };
    if matches!(
        table.kind,
        RelKind::View | RelKind::MaterializedView | RelKind::Foreign
    ) {
        out.push(Mismatch {
            kind: Kind::NotATable,
            site: Site::Table,
            field: None,
            column: None,
            needs: format!("{name} to be a table with a unique index for ON CONFLICT"),
            has: table.kind.describe().into(),
            fix: "point #[upsert(table = \"..\")] at the underlying table".into(),
        });
        return out;
    }
    if table.kind == RelKind::Partitioned {
        partition_rules(&mut out, model, table, &name);
    }
    let mut ctx = Ctx {
        dialect,
        name: &name,
        out,
    };
    for (index, field) in fields.iter().enumerate() {
        ctx.field(index, field, table, model);
    }
    ctx.unwritten_columns(fields, table);
    ctx.target(model, fields, table);
    ctx.out
}

/// What PostgreSQL refuses only when a partitioned table is written, which `EXPLAIN` does
/// not catch: `xmax` in `RETURNING` (0A000, "cannot retrieve a system column in this
/// context"), and a table with no partition (23514, "no partition of relation found").
fn partition_rules(out: &mut Vec<Mismatch>, model: &Model, table: &TableInfo, name: &str) {
    if model.flag == InsertFlag::Xmax {
        out.push(Mismatch {
            kind: Kind::Partitioned,
            site: Site::Table,
            field: None,
            column: None,
            needs: format!(
                "#[upsert(partitioned)] on the struct: {name} is partitioned, and PostgreSQL \
                 refuses the `xmax` that tells an insert from an update there (0A000 at the first write)"
            ),
            has: format!(
                "a partitioned table (partition key: {})",
                table.partition_key.join(", ")
            ),
            fix: "add #[upsert(partitioned)] to the struct".into(),
        });
    }
    if table.partitions == Some(0) {
        out.push(Mismatch {
            kind: Kind::NoPartition,
            site: Site::Table,
            field: None,
            column: None,
            needs: format!("a partition of {name} for the rows to go to"),
            has: "a partitioned table with no partition: every write fails (23514)".into(),
            fix: format!("CREATE TABLE .. PARTITION OF {name} .. (or a DEFAULT partition)"),
        });
    }
}

struct Ctx<'a> {
    dialect: &'a dyn Dialect,
    /// The quoted, qualified table name.
    name: &'a str,
    out: Vec<Mismatch>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        kind: Kind,
        site: Site,
        field: &FieldFacts,
        needs: String,
        has: String,
        fix: String,
    ) {
        self.out.push(Mismatch {
            kind,
            site,
            field: Some(field.field.to_owned()),
            column: Some(field.column.to_owned()),
            needs,
            has,
            fix,
        });
    }

    /// The statement that drops `index`: `ALTER TABLE .. DROP CONSTRAINT` for the index of a
    /// constraint (PostgreSQL refuses `DROP INDEX` there), else `DROP INDEX`.
    fn drop_index(&self, index: &IndexInfo) -> String {
        match &index.constraint {
            Some(constraint) => format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                self.name,
                self.dialect.quote_ident(constraint)
            ),
            None => format!("DROP INDEX {};", self.dialect.quote_ident(&index.name)),
        }
    }

    /// An `Option` field sent into a `NOT NULL` column: the fix is `default` with the
    /// column's own expression when it has one, else the field type, then the schema.
    fn nullable_field(
        &mut self,
        site: Site,
        field: &FieldFacts,
        column: &ColumnInfo,
        update: Update,
    ) {
        let fix = match (&column.default, update) {
            // A `None` that means "the default on insert, keep on update".
            (Some(default), Update::Replace | Update::Keep) => format!(
                "#[upsert(default = \"{}\")] on the field (a None inserts the column's default{}), or make the field non-Option",
                default.replace('"', "\\\""),
                if update == Update::Keep {
                    ""
                } else {
                    " and keeps the stored value on update"
                }
            ),
            _ => format!(
                "make the field non-Option, or {}",
                self.alter(field.column, "DROP NOT NULL")
            ),
        };
        self.push(
            Kind::NullableField,
            site,
            field,
            "a nullable column (the field is an Option: None is sent as NULL)".into(),
            format!("{} NOT NULL", column.type_name),
            fix,
        );
    }

    /// `default = "declared"` against the column's own default.
    fn column_default(
        &mut self,
        site: Site,
        field: &FieldFacts,
        column: &ColumnInfo,
        declared: &str,
    ) {
        let (has, fix) = match &column.default {
            Some(catalog) if same_default(declared, catalog) => return,
            Some(catalog) => (
                format!("DEFAULT {catalog}"),
                format!(
                    "#[upsert(default = \"{}\")] on the field",
                    catalog.replace('"', "\\\"")
                ),
            ),
            None => (
                "no default".to_owned(),
                format!(
                    "drop `default` and send a value, or give the column its default: {}",
                    self.alter(field.column, &format!("SET DEFAULT {declared}"))
                ),
            ),
        };
        self.push(
            Kind::ColumnDefault,
            site,
            field,
            format!("the column's DEFAULT to be {declared} (what a None inserts)"),
            has,
            fix,
        );
    }

    fn alter(&self, column: &str, rest: &str) -> String {
        alter_column(self.dialect, self.name, column, rest)
    }

    fn field(&mut self, index: usize, field: &FieldFacts, table: &TableInfo, model: &Model) {
        let site = Site::Field(index);
        let Some(column) = table.column(field.column) else {
            let near = near_column(table, field.column);
            let fix = match near {
                Some(near) => {
                    format!("did you mean \"{near}\"? #[upsert(rename = \"{near}\")] on the field")
                }
                None => format!(
                    "#[upsert(rename = \"..\")] on the field, or add the column: ALTER TABLE {} ADD COLUMN {} {};",
                    self.name,
                    self.dialect.quote_ident(field.column),
                    field
                        .sql_type
                        .map_or_else(|| "<type>".to_owned(), str::to_lowercase)
                ),
            };
            let needs = if field.role == Role::Skip {
                "a column to read back (upsert_returning reads every field)"
            } else {
                "a column to write"
            };
            self.push(
                Kind::MissingColumn,
                site,
                field,
                needs.into(),
                "no such column".into(),
                fix,
            );
            return;
        };
        let Some((insert, update)) = field.role.column() else {
            return;
        };
        if column.generated {
            self.push(
                Kind::GeneratedColumn,
                site,
                field,
                "a column it can write".into(),
                "a generated column, which cannot be written".into(),
                "#[upsert(skip)] on the field".into(),
            );
            return;
        }
        if let Some(declared) = field.default {
            self.column_default(site, field, column, declared);
        } else if insert == Insert::Bind && field.optional && column.not_null {
            self.nullable_field(site, field, column, update);
        }
        if insert == Insert::Bind && !field.optional && !column.not_null && update.may_keep_null() {
            let (how, fix) = match update {
                Update::Keep => (
                    "leaves the column as stored on update",
                    format!(
                        "make the field an Option, or {}",
                        self.alter(field.column, "SET NOT NULL")
                    ),
                ),
                _ => (
                    "adds to the stored value on update, and NULL + n is NULL",
                    format!(
                        "#[upsert(add, nulls = \"zero\")] on the field (a stored NULL counts as 0); or, if the column should never be NULL, UPDATE {} SET {col} = 0 WHERE {col} IS NULL; {}",
                        self.name,
                        self.alter(field.column, "SET NOT NULL"),
                        col = self.dialect.quote_ident(field.column),
                    ),
                ),
            };
            self.push(
                Kind::NullableColumn,
                site,
                field,
                format!(
                    "an Option field: the statement {how}, so upsert_returning can read back a NULL another writer stored"
                ),
                format!("{} NULL", column.type_name),
                fix,
            );
        }
        self.type_rules(site, field, column, update, model);
    }

    /// Strategy, version, timestamp and `skip_unchanged` rules on the column's type.
    fn type_rules(
        &mut self,
        site: Site,
        field: &FieldFacts,
        column: &ColumnInfo,
        update: Update,
        model: &Model,
    ) {
        let rule = match (field.role, update) {
            (Role::Combine(strategy), _) if strategy.is_add() => {
                (column.category != 'N').then_some("a numeric column for #[upsert(add)]")
            }
            (Role::Combine(Strategy::Merge), _) => (column.base_type != "jsonb")
                .then_some("a jsonb column for #[upsert(merge)] (jsonb ||)"),
            (Role::Combine(Strategy::Greatest | Strategy::Least), _) => (!column.ordered)
                .then_some("an ordered column type for #[upsert(greatest)]/#[upsert(least)]"),
            (Role::Version, _) => {
                (!column.ordered).then_some("an ordered column type for #[upsert(version)]")
            }
            (Role::CreatedAt | Role::UpdatedAt, _) | (_, Update::Now) => (column.category != 'D')
                .then_some("a date/time column for a server timestamp (now())"),
            _ => None,
        };
        if let Some(needs) = rule {
            self.push(
                Kind::StrategyType,
                site,
                field,
                needs.into(),
                column.type_name.clone(),
                format!(
                    "change the column type ({}), or the attribute",
                    self.alter(field.column, "TYPE <type>")
                ),
            );
        }
        if field.role == Role::Version && !column.not_null {
            self.push(
                Kind::StrategyType,
                site,
                field,
                "a NOT NULL version column (a NULL version never compares greater)".into(),
                format!("{} NULL", column.type_name),
                self.alter(field.column, "SET NOT NULL"),
            );
        }
        if model.guard.skip_unchanged && update.is_compared() && !column.equality {
            self.push(
                Kind::NoEquality,
                site,
                field,
                "a column type with `=` for #[upsert(skip_unchanged)]".into(),
                format!("{}, which has no equality operator", column.type_name),
                if column.base_type == "json" {
                    self.alter(field.column, "TYPE jsonb")
                } else {
                    "remove #[upsert(skip_unchanged)], or #[upsert(skip)] the field".into()
                },
            );
        }
    }

    fn unwritten_columns(&mut self, fields: &[FieldFacts], table: &TableInfo) {
        for column in &table.columns {
            let written = fields
                .iter()
                .any(|f| f.column == column.name && f.role.column().is_some());
            if written || !column.not_null || column.has_default || column.generated {
                continue;
            }
            self.out.push(Mismatch {
                kind: Kind::UnwrittenNotNull,
                site: Site::Table,
                field: None,
                column: Some(column.name.clone()),
                needs: "every NOT NULL column without a default to be written".into(),
                has: format!(
                    "{} NOT NULL without a default, which no field writes (every insert would fail)",
                    column.type_name
                ),
                fix: format!(
                    "add a field for it, or {}",
                    self.alter(&column.name, "SET DEFAULT <value>")
                ),
            });
        }
    }

    fn target(&mut self, model: &Model, fields: &[FieldFacts], table: &TableInfo) {
        let keys: Vec<&str> = model.keys().iter().map(|c| c.name).collect();
        let same_columns = |index: &IndexInfo| {
            index.columns.len() == keys.len()
                && keys.iter().all(|k| index.columns.iter().any(|c| c == k))
        };
        let key_list = keys.join(", ");
        let arbiter: Option<&IndexInfo> = match model.target {
            ConflictTarget::Constraint(name) => {
                let Some(index) = table
                    .indexes
                    .iter()
                    .find(|i| i.constraint.as_deref() == Some(name))
                else {
                    self.out.push(Mismatch {
                        kind: Kind::Constraint,
                        site: Site::Target,
                        field: None,
                        column: None,
                        needs: format!("unique constraint \"{name}\" on ({key_list})"),
                        has: "no unique or primary-key constraint of that name".into(),
                        fix: format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                            self.name,
                            self.dialect.quote_ident(name),
                            keys.iter()
                                .map(|k| self.dialect.quote_ident(k))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                    return;
                };
                if !same_columns(index) {
                    self.out.push(Mismatch {
                        kind: Kind::Constraint,
                        site: Site::Target,
                        field: None,
                        column: None,
                        needs: format!("constraint \"{name}\" on the #[conflict_key] columns ({key_list})"),
                        has: format!("it on ({})", index.columns.join(", ")),
                        fix: "mark exactly the constraint's columns #[conflict_key] (batches fold rows by them)".into(),
                    });
                }
                Some(index)
            }
            ConflictTarget::Keys { predicate } => self.keys_target(model, table, &keys, predicate),
        };
        let Some(arbiter) = arbiter else { return };
        if arbiter.deferrable {
            let constraint = arbiter.constraint.as_deref().unwrap_or(&arbiter.name);
            let quoted = self.dialect.quote_ident(constraint);
            let columns: Vec<String> = keys.iter().map(|k| self.dialect.quote_ident(k)).collect();
            self.out.push(Mismatch {
                kind: Kind::DeferrableConstraint,
                site: Site::Target,
                field: None,
                column: None,
                needs: format!(
                    "a unique constraint on ({key_list}) that is not DEFERRABLE (ON CONFLICT cannot use a deferrable one as its arbiter)"
                ),
                has: format!("constraint \"{constraint}\" DEFERRABLE"),
                fix: format!(
                    "ALTER TABLE {name} DROP CONSTRAINT {quoted}, ADD CONSTRAINT {quoted} UNIQUE ({cols}); \
                     (first check that the application never relies on deferring it)",
                    name = self.name,
                    cols = columns.join(", ")
                ),
            });
        }
        self.null_key_rules(model, fields, &keys, arbiter);
        self.key_equality_rules(fields, table);
    }

    /// An `Option` key: the index's NULL rule and `nulls_not_distinct` must agree.
    fn null_key_rules(
        &mut self,
        model: &Model,
        fields: &[FieldFacts],
        keys: &[&str],
        arbiter: &IndexInfo,
    ) {
        let optional_key = fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.role == Role::Key && f.optional);
        if let Some((index, field)) = optional_key {
            let (needs, has, fix) = match (model.null_keys, arbiter.nulls_not_distinct) {
                (NullKeys::NotDistinct, false) => (
                    "an index with NULLS NOT DISTINCT (the struct says #[upsert(nulls_not_distinct)])".to_owned(),
                    format!("unique index \"{}\" where NULLs are distinct", arbiter.name),
                    format!(
                        "remove #[upsert(nulls_not_distinct)], or recreate the index: {} {}",
                        self.drop_index(arbiter),
                        create_unique_index(self.dialect, &model.table, keys, None)
                            .replace(");", ") NULLS NOT DISTINCT;")
                    ),
                ),
                (NullKeys::NotDistinct, true) => (String::new(), String::new(), String::new()),
                (_, true) => (
                    "#[upsert(nulls_not_distinct)] on the struct, as the index says None keys conflict (else a batch keeps None rows apart that one by one would update each other)".to_owned(),
                    format!("unique index \"{}\" with NULLS NOT DISTINCT", arbiter.name),
                    "#[upsert(nulls_not_distinct)] on the struct".to_owned(),
                ),
                (_, false) => (
                    "NULL keys to conflict with each other (the key is an Option)".to_owned(),
                    format!("unique index \"{}\" where NULLs are distinct, so None rows never conflict and insert duplicates", arbiter.name),
                    format!(
                        "make the key non-Option, or recreate the index with NULLS NOT DISTINCT (PostgreSQL 15+) and add #[upsert(nulls_not_distinct)]: {} {}",
                        self.drop_index(arbiter),
                        create_unique_index(self.dialect, &model.table, keys, None)
                            .replace(");", ") NULLS NOT DISTINCT;")
                    ),
                ),
            };
            if !needs.is_empty() {
                self.push(
                    Kind::NullableKey,
                    Site::Field(index),
                    field,
                    needs,
                    has,
                    fix,
                );
            }
        }
    }

    /// Keys whose equality is not bytewise: a batch must fold them with the column's own
    /// equality, which `#[upsert(sql_type)]` / `#[upsert(collate)]` give it.
    fn key_equality_rules(&mut self, fields: &[FieldFacts], table: &TableInfo) {
        for (index, field) in fields.iter().enumerate() {
            if field.role != Role::Key {
                continue;
            }
            let Some(column) = table.column(field.column).filter(|c| !c.bytewise_equality) else {
                continue;
            };
            let citext = column.base_type == "citext";
            let folded = if citext {
                field.cast.is_some_and(|cast| {
                    cast.rsplit('.')
                        .next()
                        .is_some_and(|t| t.eq_ignore_ascii_case("citext"))
                })
            } else {
                field.collate.is_some() && field.collate == column.collation.as_deref()
            };
            if folded {
                continue;
            }
            let attribute = if citext {
                "#[upsert(sql_type = \"citext\")]".to_owned()
            } else {
                format!(
                    "#[upsert(collate = \"{}\")]",
                    column
                        .collation
                        .as_deref()
                        .unwrap_or("<the column's collation>")
                )
            };
            self.push(
                Kind::KeyEquality,
                Site::Field(index),
                field,
                format!(
                    "{attribute} on the key, so that upsert_many folds a batch's keys with the column's equality (as one by one, `Ann@` and `ann@` are one key)"
                ),
                format!(
                    "{}, whose equality is not bytewise ({})",
                    column.type_name,
                    if citext { "citext" } else { "a nondeterministic collation" }
                ),
                format!("{attribute} on the field"),
            );
        }
    }

    /// `conflict_where = wanted` over `plain`, a unique index that is not partial.
    fn ignored_predicate(&mut self, model: &Model, keys: &[&str], wanted: &str, plain: &IndexInfo) {
        let key_list = keys.join(", ");
        self.out.push(Mismatch {
            kind: Kind::IgnoredPredicate,
            site: Site::Target,
            field: None,
            column: None,
            needs: format!(
                "a partial unique index on ({key_list}) WHERE {wanted}, as #[upsert(conflict_where)] says"
            ),
            has: format!(
                "unique index \"{}\" on ({key_list}), which is not partial: PostgreSQL ignores the predicate and every row conflicts on that index",
                plain.name
            ),
            fix: format!(
                "remove #[upsert(conflict_where)] from the struct; or, if rows outside the predicate may repeat the key, replace the index: {} {}",
                self.drop_index(plain),
                create_unique_index(self.dialect, &model.table, keys, Some(wanted))
            ),
        });
    }

    /// The arbiter for `ON CONFLICT (keys) [WHERE predicate]`, or a mismatch.
    fn keys_target<'t>(
        &mut self,
        model: &Model,
        table: &'t TableInfo,
        keys: &[&str],
        predicate: Option<&str>,
    ) -> Option<&'t IndexInfo> {
        let candidates: Vec<&IndexInfo> = table
            .indexes
            .iter()
            .filter(|i| {
                i.columns.len() == keys.len()
                    && keys.iter().all(|k| i.columns.iter().any(|c| c == k))
            })
            .collect();
        let key_list = keys.join(", ");
        // PostgreSQL infers no deferrable index; one is reported only when it is all there is.
        let plain = candidates
            .iter()
            .filter(|i| i.predicate.is_none())
            .min_by_key(|i| i.deferrable);
        if let Some(plain) = plain {
            let partial_match = predicate.is_some_and(|wanted| {
                candidates.iter().any(|i| {
                    i.predicate.as_deref().map(normalize_predicate)
                        == Some(normalize_predicate(wanted))
                })
            });
            if let Some(wanted) = predicate
                && !partial_match
            {
                self.ignored_predicate(model, keys, wanted, plain);
            }
            return Some(plain);
        }
        if let Some(partial) = candidates.first() {
            let index_predicate = partial.predicate.as_deref().unwrap_or_default();
            if let Some(wanted) = predicate
                && let Some(found) = candidates.iter().find(|i| {
                    i.predicate.as_deref().map(normalize_predicate)
                        == Some(normalize_predicate(wanted))
                })
            {
                return Some(found);
            }
            self.out.push(Mismatch {
                kind: Kind::PartialIndex,
                site: Site::Target,
                field: None,
                column: None,
                needs: format!(
                    "a unique index on ({key_list}) {}",
                    predicate.map_or_else(
                        || "without a predicate".to_owned(),
                        |p| format!("whose predicate is {p}")
                    )
                ),
                has: format!(
                    "partial unique index \"{}\" WHERE {index_predicate}",
                    partial.name
                ),
                fix: format!("#[upsert(conflict_where = \"{index_predicate}\")] on the struct"),
            });
            return None;
        }
        let (needs, fix) = if table.kind == RelKind::Partitioned
            && !table
                .partition_key
                .iter()
                .all(|p| keys.contains(&p.as_str()))
        {
            (
                format!(
                    "a unique index on ({key_list}); on a partitioned table it must include the partition key ({})",
                    table.partition_key.join(", ")
                ),
                "add the partition key columns to #[conflict_key] and the index".to_owned(),
            )
        } else {
            (
                format!("a unique index or constraint on exactly ({key_list})"),
                create_unique_index(self.dialect, &model.table, keys, predicate),
            )
        };
        let has = if table.indexes.is_empty() {
            "no unique index".to_owned()
        } else {
            let list: Vec<String> = table
                .indexes
                .iter()
                .map(|i| format!("\"{}\" ({})", i.name, i.columns.join(", ")))
                .collect();
            format!("only {}", list.join(", "))
        };
        self.out.push(Mismatch {
            kind: Kind::NoUniqueIndex,
            site: Site::Target,
            field: None,
            column: None,
            needs,
            has,
            fix,
        });
        None
    }
}

/// A name without case or underscores, to suggest a `rename`.
/// The table's column nearest to `wanted`, if one is near enough to be a misspelling: the
/// same letters but for case and underscores, or at most 2 edits away (1 for names of up to
/// 4 characters).
///
/// ```
/// use upsert_core::schema::{ColumnInfo, RelKind, TableInfo};
/// use upsert_core::verify::near_column;
/// let mut t = TableInfo::new("public", "t", RelKind::Table);
/// t.columns.push(ColumnInfo::new("total_km", "float8", "float8", 701, 'N'));
/// t.columns.push(ColumnInfo::new("published", "timestamp", "timestamp", 1114, 'D'));
/// assert_eq!(near_column(&t, "totalkm"), Some("total_km"));
/// assert_eq!(near_column(&t, "pubished"), Some("published"));
/// assert_eq!(near_column(&t, "color"), None);
/// ```
#[must_use]
pub fn near_column<'t>(table: &'t TableInfo, wanted: &str) -> Option<&'t str> {
    let budget = if wanted.chars().count() <= 4 { 1 } else { 2 };
    table
        .columns
        .iter()
        .map(|c| {
            let distance = if loose(&c.name) == loose(wanted) {
                0
            } else {
                edit_distance(&c.name.to_lowercase(), &wanted.to_lowercase())
            };
            (distance, c.name.as_str())
        })
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The column base types sqlx accepts for a field type written as `rust_type` (as the
/// derive prints it: `i64`, `Option<String>`, `&'a str`, `Json<Value>`), for the common
/// types whose rule is fixed; `None` for any other type, whose rule only the runtime can
/// ask sqlx (`verify`). Mirrors sqlx's `Type::compatible` for these types.
///
/// ```
/// use upsert_core::verify::compatible_columns;
/// assert!(compatible_columns("Option<i64>").unwrap().contains(&"int8"));
/// assert!(!compatible_columns("i64").unwrap().contains(&"text"));
/// assert!(compatible_columns("MyEnum").is_none());
/// assert_eq!(compatible_columns("sqlx::types::Json<serde_json::Value>"), Some(&["jsonb", "json"][..]));
/// assert!(compatible_columns("&'a str").unwrap().contains(&"text"));
/// ```
#[must_use]
pub fn compatible_columns(rust_type: &str) -> Option<&'static [&'static str]> {
    const TEXT: &[&str] = &["text", "varchar", "bpchar", "name", "citext", "unknown"];
    let mut ty = rust_type.trim();
    while let Some(inner) = ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
        ty = inner.trim();
    }
    let (head, rest) = ty.split_at(ty.find('<').unwrap_or(ty.len()));
    let ty = format!("{}{rest}", head.rsplit("::").next().unwrap_or(head));
    let ty = ty.as_str();
    Some(match ty {
        "bool" => &["bool"],
        "i8" => &["char"],
        "i16" => &["int2"],
        "i32" => &["int4"],
        "i64" => &["int8"],
        "f32" => &["float4"],
        "f64" => &["float8"],
        "String" | "str" => TEXT,
        "Vec<u8>" | "[u8]" => &["bytea"],
        "Value" | "JsonValue" => &["jsonb", "json"],
        _ if ty.starts_with('&') => {
            let inner = ty.trim_start_matches('&');
            let inner = inner
                .strip_prefix('\'')
                .map_or(inner, |rest| rest.split_once(' ').map_or(rest, |(_, t)| t));
            return compatible_columns(inner);
        }
        _ if ty.starts_with("Json<") => &["jsonb", "json"],
        _ => return None,
    })
}

/// What can be checked without a server: [`check`]'s rules, and for each sent field whose
/// Rust type has a fixed set of columns ([`compatible_columns`]) a [`Kind::ColumnType`]
/// mismatch when its built-in column is none of them. The derive runs it on a schema
/// snapshot at build time; the runtime's `verify` runs [`check`] and asks sqlx instead, which
/// also knows the types the derive cannot see (a `#[derive(sqlx::Type)]` enum or newtype).
/// `rust_types` holds each field's type as written, in field order.
///
/// ```
/// use upsert_core::schema::{ColumnInfo, IndexInfo, RelKind, TableInfo};
/// use upsert_core::verify::{FieldFacts, Kind, check_offline};
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
///
/// let fields = [
///     FieldFacts { field: "id", column: "id", role: Role::Key, optional: false, sql_type: Some("int8"), cast: None, collate: None, array: false, text: false, default: None, sent: false },
///     FieldFacts { field: "name", column: "name", role: Role::Write, optional: false, sql_type: Some("text"), cast: None, collate: None, array: false, text: true, default: None, sent: false },
/// ];
/// let model = Model::new(Table { schema: None, name: "t" }, ConflictTarget::Keys { predicate: None },
///     fields.iter().map(|f| (f.column, f.role)), None, false);
/// let mut table = TableInfo::new("public", "t", RelKind::Table);
/// let mut id = ColumnInfo::new("id", "int8", "int8", 20, 'N');
/// id.not_null = true;
/// table.columns.push(id);
/// table.columns.push(ColumnInfo::new("name", "int8", "int8", 20, 'N'));
/// table.indexes.push(IndexInfo::unique("t_pkey", &["id"]));
/// let kinds: Vec<Kind> = check_offline(&Postgres, &model, &fields, &["i64", "String"], Some(&table))
///     .iter().map(|m| m.kind).collect();
/// assert_eq!(kinds, [Kind::ColumnType]);
/// ```
#[must_use]
pub fn check_offline(
    dialect: &dyn Dialect,
    model: &Model,
    fields: &[FieldFacts],
    rust_types: &[&str],
    table: Option<&TableInfo>,
) -> Vec<Mismatch> {
    let mut out = check(dialect, model, fields, table);
    let Some(table) = table else { return out };
    let name = dialect.quote_table(&model.table);
    for (index, (field, rust_type)) in fields.iter().zip(rust_types).enumerate() {
        let Some((Insert::Bind, update)) = field.role.column() else {
            continue;
        };
        let Some(column) = table.column(field.column) else {
            continue;
        };
        // One error for a field whose strategy already does not fit the column's type.
        if out
            .iter()
            .any(|m| m.site == Site::Field(index) && m.kind == Kind::StrategyType)
        {
            continue;
        }
        if let Some(accepted) = feature_columns(rust_type) {
            if !accepted.contains(&column.base_type.as_str()) {
                out.push(column_type_mismatch(
                    dialect, &name, index, field, rust_type, column,
                ));
            }
            continue;
        }
        if let Some(mismatch) =
            scalar_type_rule(dialect, &name, index, field, rust_type, update, column)
        {
            out.push(mismatch);
        }
    }
    out
}

/// Whether a column holds every value of the common scalar `rust_type` and gives it back
/// exactly (through the cast `upsert_returning` reads it with, [`returning_cast`]): the
/// field's own type, a wider one (`i32` into `int8`, `f32` into `float8`), a string column
/// long enough for its text (`bool` into `text`). `None` for the types whose columns are
/// not fixed ([`compatible_columns`]); sqlx decides those.
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::holds_every_value;
/// let int8 = ColumnInfo::new("n", "bigint", "int8", 20, 'N');
/// let int4 = ColumnInfo::new("n", "integer", "int4", 23, 'N');
/// assert_eq!(holds_every_value("i32", &int8), Some(true));
/// assert_eq!(holds_every_value("i64", &int4), Some(false));
/// assert_eq!(holds_every_value("Uuid", &int4), None);
/// ```
#[must_use]
pub fn holds_every_value(rust_type: &str, column: &ColumnInfo) -> Option<bool> {
    let (columns, text_len) = scalar_columns(rust_type)?;
    let base = column.base_type.as_str();
    if columns.0.contains(&base) {
        return Some(true);
    }
    let text = matches!(base, "text" | "varchar" | "citext");
    Some(text && text_len.is_some_and(|len| varchar_length(column).is_none_or(|n| n >= len)))
}

/// Whether the common scalar `rust_type` holds every value a column of this type can store
/// (a value another writer stored, which a column the statement keeps gives back): `i64`
/// for `int4`, not `i32` for `int8`. `None` for the types [`holds_every_value`] leaves to
/// sqlx.
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::fits_every_value;
/// let int4 = ColumnInfo::new("n", "integer", "int4", 23, 'N');
/// let int8 = ColumnInfo::new("n", "bigint", "int8", 20, 'N');
/// assert_eq!(fits_every_value("i64", &int4), Some(true));
/// assert_eq!(fits_every_value("i32", &int8), Some(false));
/// ```
#[must_use]
pub fn fits_every_value(rust_type: &str, column: &ColumnInfo) -> Option<bool> {
    let (columns, _) = scalar_columns(rust_type)?;
    Some(columns.1.contains(&column.base_type.as_str()))
}

/// The column base types sqlx reads a field of one of the feature types (`uuid`, `chrono`,
/// `time`, `rust_decimal`, `bigdecimal`, `ipnet`, `ipnetwork`, `mac_address`, `bit-vec`) from,
/// by the type's last path segment as written; exactly sqlx's rule, since no cast is applied
/// to them. `None` for any other type (arrays included: sqlx decides those).
///
/// ```
/// use upsert_core::verify::feature_columns;
/// assert_eq!(feature_columns("Option<chrono::NaiveDateTime>"), Some(&["timestamp"][..]));
/// assert_eq!(feature_columns("DateTime<Utc>"), Some(&["timestamptz"][..]));
/// assert_eq!(feature_columns("Vec<Uuid>"), None);
/// ```
#[must_use]
pub fn feature_columns(rust_type: &str) -> Option<&'static [&'static str]> {
    let mut ty = rust_type.trim();
    while let Some(inner) = ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
        ty = inner.trim();
    }
    let ty = ty.replace(' ', "");
    let (head, rest) = ty.split_at(ty.find('<').unwrap_or(ty.len()));
    let name = head.rsplit("::").next().unwrap_or(head);
    Some(match (name, rest) {
        ("Uuid", "") => &["uuid"],
        ("NaiveDate" | "Date", "") => &["date"],
        ("NaiveTime" | "Time", "") => &["time"],
        ("NaiveDateTime" | "PrimitiveDateTime", "") => &["timestamp"],
        ("DateTime", _) | ("OffsetDateTime", "") => &["timestamptz"],
        ("Decimal" | "BigDecimal", "") => &["numeric"],
        ("IpNet" | "IpNetwork", "") => &["inet", "cidr"],
        ("MacAddress", "") => &["macaddr"],
        ("BitVec", "") => &["bit", "varbit"],
        _ => return None,
    })
}

/// For a common scalar type: (the column types that hold its values exactly, the column
/// types all of whose values it holds), and the longest text of a value (for a string
/// column of limited length; `None`: it has no text form there).
#[allow(clippy::type_complexity, reason = "a private table")]
fn scalar_columns(
    rust_type: &str,
) -> Option<(
    (&'static [&'static str], &'static [&'static str]),
    Option<u32>,
)> {
    const TEXT: &[&str] = &["text", "varchar", "bpchar", "name", "citext"];
    let ty = compatible_columns(rust_type)?.first().copied()?;
    Some(match ty {
        "bool" => ((&["bool"], &["bool"]), Some(5)),
        "int2" => (
            (
                &["int2", "int4", "int8", "numeric", "float4", "float8"],
                &["int2"],
            ),
            Some(6),
        ),
        "int4" => (
            (&["int4", "int8", "numeric", "float8"], &["int2", "int4"]),
            Some(11),
        ),
        "int8" => ((&["int8", "numeric"], &["int2", "int4", "int8"]), Some(20)),
        "float4" => ((&["float4", "float8"], &["float4"]), Some(15)),
        "float8" => ((&["float8"], &["float4", "float8"]), Some(24)),
        "text" => ((TEXT, TEXT), None),
        // Its text (`\x0102`) has no bound on its length.
        "bytea" => ((&["bytea"], &["bytea"]), Some(u32::MAX)),
        "jsonb" => ((&["jsonb", "json"], &["jsonb", "json"]), None),
        _ => return None,
    })
}

/// The `n` of `character varying(n)`.
fn varchar_length(column: &ColumnInfo) -> Option<u32> {
    let (_, rest) = column.type_name.split_once('(')?;
    rest.strip_suffix(')')?.parse().ok()
}

/// The type rule of a sent field whose Rust type is a common scalar: the column must hold
/// every value it sends, and where the statement may give back a stored value (a column it
/// keeps or combines), the field must hold every value of the column.
fn scalar_type_rule(
    dialect: &dyn Dialect,
    table: &str,
    index: usize,
    field: &FieldFacts,
    rust_type: &str,
    update: Update,
    column: &ColumnInfo,
) -> Option<Mismatch> {
    let mut holds = holds_every_value(rust_type, column)?;
    if matches!(update, Update::Combine(_)) || field.role == Role::Version {
        // A strategy or a version compares or adds the value with the stored one: on its
        // text, `9` is greater than `10`.
        holds &= column.category != 'S' || field.text;
    }
    let reads_stored = matches!(
        update,
        Update::Keep | Update::ReplaceIfSent | Update::Combine(_)
    );
    if holds && (!reads_stored || fits_every_value(rust_type, column) == Some(true)) {
        return None;
    }
    let mut mismatch = column_type_mismatch(dialect, table, index, field, rust_type, column);
    if holds {
        mismatch.needs = format!(
            "a field type that holds every value of the column: the statement {} the stored value, so upsert_returning can read back one another writer stored",
            if matches!(update, Update::Keep | Update::ReplaceIfSent) {
                "keeps"
            } else {
                "combines"
            }
        );
    }
    Some(mismatch)
}

/// The SQL type a returned column is cast to for a field written `rust_type`: the fixed
/// type of the common scalar types ([`compatible_columns`]' first), none for JSON (a cast
/// would turn `json` into `jsonb`) or for any other type.
///
/// ```
/// use upsert_core::verify::returning_cast;
/// assert_eq!(returning_cast("Option<i64>"), Some("int8"));
/// assert_eq!(returning_cast("Json<Value>"), None);
/// assert_eq!(returning_cast("MyEnum"), None);
/// ```
#[must_use]
pub fn returning_cast(rust_type: &str) -> Option<&'static str> {
    compatible_columns(rust_type)?
        .first()
        .copied()
        .filter(|t| !matches!(*t, "json" | "jsonb" | "char"))
}

/// The mismatch of a field whose Rust type `rust_type` (sent as `sent_as`) cannot go to and
/// come back from `column` (the runtime asks sqlx; the derive reads [`compatible_columns`]).
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::{FieldFacts, column_type_mismatch};
/// use upsert_core::{Postgres, Role};
///
/// let f = FieldFacts { field: "score", column: "score", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, default: None, sent: false };
/// let m = column_type_mismatch(&Postgres, "\"t\"", 1, &f, "i64", &ColumnInfo::new("score", "text", "text", 25, 'S'));
/// assert_eq!(m.fix, "make the field `String` (the column's type)");
/// let int4 = ColumnInfo::new("score", "integer", "int4", 23, 'N');
/// let m = column_type_mismatch(&Postgres, "\"t\"", 1, &f, "i64", &int4);
/// assert_eq!(m.fix, r#"make the field `i32` (the column's type); or, if the column is what is wrong, ALTER TABLE "t" ALTER COLUMN "score" TYPE int8;"#);
/// ```
#[must_use]
pub fn column_type_mismatch(
    dialect: &dyn Dialect,
    table: &str,
    index: usize,
    field: &FieldFacts,
    rust_type: &str,
    column: &ColumnInfo,
) -> Mismatch {
    let sent_as = field.sql_type.map(str::to_lowercase);
    let sent_as = sent_as.as_deref().unwrap_or("its SQL type");
    let field_type = rust_type_for(column).map_or_else(
        || format!("make the field a type sqlx reads from {}", column.type_name),
        |ty| format!("make the field `{ty}` (the column's type)"),
    );
    // The schema second, and only where the new column type loses no stored value.
    let widens = rust_type_for(column)
        .and_then(scalar_columns)
        .is_some_and(|((holds, _), _)| holds.contains(&sent_as));
    let fix = if widens {
        format!(
            "{field_type}; or, if the column is what is wrong, {}",
            alter_column(dialect, table, field.column, &format!("TYPE {sent_as}"))
        )
    } else {
        field_type
    };
    Mismatch {
        kind: Kind::ColumnType,
        site: Site::Field(index),
        field: Some(field.field.to_owned()),
        column: Some(field.column.to_owned()),
        needs: format!(
            "a column that holds every `{rust_type}` value and gives it back (sent as {sent_as})"
        ),
        has: column.type_name.clone(),
        fix,
    }
}

/// The Rust type a column of this type reads into, for the fix that changes the field:
/// `bigint` gives `i64`. `None` for a type with no one answer (an enum, a domain over one).
///
/// ```
/// use upsert_core::schema::ColumnInfo;
/// use upsert_core::verify::rust_type_for;
/// assert_eq!(rust_type_for(&ColumnInfo::new("n", "bigint", "int8", 20, 'N')), Some("i64"));
/// assert_eq!(rust_type_for(&ColumnInfo::new("n", "text[]", "_text", 1009, 'A')), Some("Vec<String>"));
/// ```
#[must_use]
pub fn rust_type_for(column: &ColumnInfo) -> Option<&'static str> {
    Some(match column.base_type.as_str() {
        "bool" => "bool",
        "int2" => "i16",
        "int4" => "i32",
        "int8" => "i64",
        "float4" => "f32",
        "float8" => "f64",
        "numeric" => "Decimal",
        "text" | "varchar" | "bpchar" | "name" | "citext" => "String",
        "bytea" => "Vec<u8>",
        "json" | "jsonb" => "Json<T>",
        "uuid" => "Uuid",
        "date" => "NaiveDate",
        "time" => "NaiveTime",
        "timestamp" => "NaiveDateTime",
        "timestamptz" => "DateTime<Utc>",
        "inet" | "cidr" => "IpNetwork",
        "macaddr" => "MacAddress",
        "bit" | "varbit" => "BitVec",
        "_int2" => "Vec<i16>",
        "_int4" => "Vec<i32>",
        "_int8" => "Vec<i64>",
        "_text" | "_varchar" => "Vec<String>",
        "_bool" => "Vec<bool>",
        "_float8" => "Vec<f64>",
        "_uuid" => "Vec<Uuid>",
        _ => return None,
    })
}

/// Whether a `default = ".."` expression is the column's default as PostgreSQL prints it:
/// compared without whitespace, casts (`'new'::text`), letter case outside string literals,
/// enclosing parentheses and quotes around a literal (`'-1'::integer` is `-1`), and with
/// `CURRENT_TIMESTAMP` and `now()` the same. A check that cries wolf is turned off, so text
/// the rule cannot tell apart counts as the same.
///
/// ```
/// use upsert_core::verify::same_default;
/// assert!(same_default("false", "false"));
/// assert!(same_default("'new'", "'new'::text"));
/// assert!(same_default("now()", "CURRENT_TIMESTAMP"));
/// assert!(same_default("-1", "'-1'::integer"));
/// assert!(same_default("'{}'", "'{}'::jsonb"));
/// assert!(!same_default("true", "false"));
/// assert!(!same_default("'New'", "'new'::character varying"));
/// ```
#[must_use]
pub fn same_default(declared: &str, catalog: &str) -> bool {
    let (a, b) = (default_text(declared), default_text(catalog));
    a == b || a.replace('\'', "") == b.replace('\'', "")
}

/// [`same_default`]'s form of an expression.
fn default_text(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal, verbatim ('' inside it included).
                out.push(c);
                while let Some(q) = chars.next() {
                    out.push(q);
                    if q == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.extend(chars.next());
                        } else {
                            break;
                        }
                    }
                }
            }
            ':' if chars.peek() == Some(&':') => {
                // A cast: its type name (`character varying(255)[]`) dropped.
                chars.next();
                while let Some(&t) = chars.peek() {
                    if t.is_alphanumeric() || matches!(t, '_' | ' ' | '.' | '"' | '[' | ']') {
                        chars.next();
                    } else if t == '(' {
                        for t in chars.by_ref() {
                            if t == ')' {
                                break;
                            }
                        }
                    } else {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    let mut text = out.as_str();
    while text.starts_with('(') && text.ends_with(')') && balanced(&text[1..text.len() - 1]) {
        text = &text[1..text.len() - 1];
    }
    match text {
        "current_timestamp" | "transaction_timestamp()" => "now()".to_owned(),
        other => other.to_owned(),
    }
}

/// Whether every `(` in `text` closes in it, in order.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `ALTER TABLE <table> ALTER COLUMN "<column>" <rest>;` (`table` already quoted).
fn alter_column(dialect: &dyn Dialect, table: &str, column: &str, rest: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} {rest};",
        dialect.quote_ident(column)
    )
}
