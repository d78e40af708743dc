//! The schema rules: what a struct needs from its table, checked against what the table has
//! ([`TableInfo`]). The runtime's `verify` runs them on the live catalog; the derive runs
//! them at compile time on a snapshot. Each broken rule is one [`Mismatch`] naming the field,
//! the column, what the struct needs, what the table has, and the fix.

use crate::dialect::Dialect;
use crate::model::{InsertFlag, Model};
use crate::role::Insert;
use crate::schema::{RelKind, TableInfo};

mod class;
mod fixes;
mod mismatch;
mod names;
mod rules;
mod types;

pub use class::{TypeClass, compatible_columns, feature_columns};
pub use fixes::{create_unique_index, same_default};
pub use mismatch::{FieldFacts, Kind, Mismatch, Site};
pub use names::{
    MAX_IDENTIFIER_BYTES, near_column, normalize_predicate, truncate, truncation_clashes,
};
use rules::Ctx;
use types::scalar_type_rule;
pub use types::{
    column_type_mismatch, fits_every_value, holds_every_value, returning_cast, rust_type_for,
};

/// Every way the struct (`model`, `fields` in field order) and `table` (`None`: no such
/// table) disagree.
///
/// ```
/// use upsert_core::schema::{ColumnInfo, RelKind, TableInfo};
/// use upsert_core::verify::{FieldFacts, Kind, check};
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
///
/// let fields = [
///     FieldFacts { field: "name", column: "name", role: Role::Key, optional: false, sql_type: Some("TEXT"), cast: None, collate: None, array: false, text: true, class: None, default: None, sent: false },
///     FieldFacts { field: "views", column: "views", role: Role::Write, optional: false, sql_type: Some("INT8"), cast: None, collate: None, array: false, text: false, class: None, default: None, sent: false },
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

/// What can be checked without a server: [`check`]'s rules, and for each sent field whose
/// Rust type has a fixed set of columns ([`compatible_columns`]) a [`Kind::ColumnType`]
/// mismatch when its built-in column is none of them. The derive runs it on a schema
/// snapshot at build time; the runtime's `verify` runs [`check`] and asks sqlx instead, which
/// also knows the types the derive cannot see (a `#[derive(sqlx::Type)]` enum or newtype).
/// The rules read each field's [`TypeClass`] (`FieldFacts::class`); `rust_types` holds each
/// field's type as written, in field order, for the messages.
///
/// ```
/// use upsert_core::schema::{ColumnInfo, IndexInfo, RelKind, TableInfo};
/// use upsert_core::verify::{FieldFacts, Kind, TypeClass, check_offline};
/// use upsert_core::{ConflictTarget, Model, Postgres, Role, Table};
///
/// let fields = [
///     FieldFacts { field: "id", column: "id", role: Role::Key, optional: false, sql_type: Some("int8"), cast: None, collate: None, array: false, text: false, class: Some(TypeClass::Int8), default: None, sent: false },
///     FieldFacts { field: "name", column: "name", role: Role::Write, optional: false, sql_type: Some("text"), cast: None, collate: None, array: false, text: true, class: Some(TypeClass::Text), default: None, sent: false },
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
        if let Some(class) = field.class.filter(|class| class.needs_feature()) {
            if !class.columns().contains(&column.base_type.as_str()) {
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
