//! What the rules read of a field ([`FieldFacts`]) and what they report ([`Mismatch`]:
//! the rule broken, where, what is needed, what was found, the fix).

use std::fmt;

use crate::model::FieldDef;
use crate::role::Role;

use super::class::TypeClass;

/// What the struct says about one field, besides its role.
///
/// ```
/// use upsert_core::{Role, verify::FieldFacts};
/// let f = FieldFacts { field: "views", column: "views", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, class: None, default: None, sent: false };
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
    /// What the column-type rules know of its Rust type ([`TypeClass::of`]).
    pub class: Option<TypeClass>,
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
    /// let f = FieldFacts { field: "k", column: "k", role: Role::Key, optional: true, sql_type: None, cast: None, collate: None, array: false, text: false, class: None, default: None, sent: false };
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
    /// MySQL: a unique index other than the conflict key's. `ON DUPLICATE KEY UPDATE` fires on
    /// any unique index, so a row that clashes only there silently updates that other row.
    OtherUniqueIndex,
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
