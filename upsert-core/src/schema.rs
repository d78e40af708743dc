//! What the database says about a table: its columns, types, unique indexes and
//! constraints. Read live by the runtime (`verify`), or from a snapshot file written by the
//! `prepare` command and read by the derive at compile time; [`Snapshot`] is that file's
//! format, written and parsed here only.

use std::fmt::Write as _;

/// The kind of relation a name resolves to.
///
/// ```
/// assert_eq!(upsert_core::schema::RelKind::from_code('p'), upsert_core::schema::RelKind::Partitioned);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RelKind {
    /// An ordinary table (`r`).
    Table,
    /// A partitioned table (`p`).
    Partitioned,
    /// A view (`v`).
    View,
    /// A materialized view (`m`).
    MaterializedView,
    /// A foreign table (`f`).
    Foreign,
}

impl RelKind {
    /// From `pg_class.relkind`; anything else counts as a table.
    #[must_use]
    pub fn from_code(code: char) -> Self {
        match code {
            'p' => RelKind::Partitioned,
            'v' => RelKind::View,
            'm' => RelKind::MaterializedView,
            'f' => RelKind::Foreign,
            _ => RelKind::Table,
        }
    }

    /// `pg_class.relkind`.
    #[must_use]
    pub fn code(self) -> char {
        match self {
            RelKind::Table => 'r',
            RelKind::Partitioned => 'p',
            RelKind::View => 'v',
            RelKind::MaterializedView => 'm',
            RelKind::Foreign => 'f',
        }
    }

    /// How messages name it.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            RelKind::Table => "a table",
            RelKind::Partitioned => "a partitioned table",
            RelKind::View => "a view",
            RelKind::MaterializedView => "a materialized view",
            RelKind::Foreign => "a foreign table",
        }
    }
}

/// One column.
///
/// ```
/// let c = upsert_core::schema::ColumnInfo::new("n", "bigint", "int8", 20, 'N');
/// assert!(c.equality && c.ordered && !c.not_null);
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "catalog facts, each a yes/no"
)]
pub struct ColumnInfo {
    /// The column name.
    pub name: String,
    /// The declared type, as PostgreSQL prints it (`integer`, `character varying(20)`).
    pub type_name: String,
    /// The base type's name (a domain resolved to its base): `int4`, `_text`, `citext`.
    pub base_type: String,
    /// The base type's OID.
    pub base_oid: u32,
    /// `pg_type.typcategory` of the base type: `N` numeric, `S` string, `D` date/time,
    /// `A` array, `U` user-defined (json, jsonb), ..
    pub category: char,
    /// `NOT NULL` (on the column or its domain).
    pub not_null: bool,
    /// A default, an identity or a generated expression fills it when not written.
    pub has_default: bool,
    /// `GENERATED ALWAYS AS (..) STORED`: cannot be written.
    pub generated: bool,
    /// The type has an equality operator (a default btree or hash operator class).
    pub equality: bool,
    /// The type is ordered (a default btree operator class).
    pub ordered: bool,
    /// Equal values are equal bytes: a deterministic collation and not `citext`.
    pub bytewise_equality: bool,
    /// The column's collation, when it is not its type's default.
    pub collation: Option<String>,
    /// The default expression, as PostgreSQL prints it (`false`, `now()`,
    /// `'new'::text`): the column's or its domain's; `None` for none, an identity or a
    /// generated column.
    pub default: Option<String>,
}

impl ColumnInfo {
    /// A nullable column without default, comparable and bytewise-equal.
    #[must_use]
    pub fn new(
        name: &str,
        type_name: &str,
        base_type: &str,
        base_oid: u32,
        category: char,
    ) -> Self {
        ColumnInfo {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            base_type: base_type.to_owned(),
            base_oid,
            category,
            not_null: false,
            has_default: false,
            generated: false,
            equality: true,
            ordered: true,
            bytewise_equality: true,
            collation: None,
            default: None,
        }
    }
}

/// A unique index (or the index of a unique or primary-key constraint).
///
/// ```
/// let i = upsert_core::schema::IndexInfo::unique("t_pkey", &["id"]);
/// assert!(i.predicate.is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IndexInfo {
    /// The index name.
    pub name: String,
    /// Its key columns, in order; empty when a key is an expression.
    pub columns: Vec<String>,
    /// The predicate of a partial index, as PostgreSQL prints it.
    pub predicate: Option<String>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15+): NULL keys conflict.
    pub nulls_not_distinct: bool,
    /// The unique or primary-key constraint the index backs, if any.
    pub constraint: Option<String>,
    /// That constraint is `DEFERRABLE`: `ON CONFLICT` cannot use it as an arbiter.
    pub deferrable: bool,
}

impl IndexInfo {
    /// A plain unique index on `columns`.
    #[must_use]
    pub fn unique(name: &str, columns: &[&str]) -> Self {
        IndexInfo {
            name: name.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            predicate: None,
            nulls_not_distinct: false,
            constraint: None,
            deferrable: false,
        }
    }
}

/// One table (or view) as the database has it.
///
/// ```
/// use upsert_core::schema::{RelKind, TableInfo};
/// let t = TableInfo::new("public", "tag", RelKind::Table);
/// assert!(t.column("name").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TableInfo {
    /// The schema it lives in.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// What kind of relation it is.
    pub kind: RelKind,
    /// Its columns, in order.
    pub columns: Vec<ColumnInfo>,
    /// Its valid unique indexes.
    pub indexes: Vec<IndexInfo>,
    /// The partition key's columns (partitioned tables), the sub-partitions' keys after the
    /// table's own.
    pub partition_key: Vec<String>,
    /// How many leaf partitions a partitioned table has (`None`: not known). With none, no
    /// row has anywhere to go.
    pub partitions: Option<u32>,
}

impl TableInfo {
    /// An empty table.
    #[must_use]
    pub fn new(schema: &str, name: &str, kind: RelKind) -> Self {
        TableInfo {
            schema: schema.to_owned(),
            name: name.to_owned(),
            kind,
            columns: Vec::new(),
            indexes: Vec::new(),
            partition_key: Vec::new(),
            partitions: None,
        }
    }

    /// The column named exactly `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The snapshot file: the tables of the schemas on a database's `search_path`, in a
/// line-based text format (tab-separated, one record a line), so that the derive can read it
/// without dependencies and a review can read its diff.
///
/// ```
/// use upsert_core::schema::{ColumnInfo, IndexInfo, RelKind, Snapshot, TableInfo};
///
/// let mut table = TableInfo::new("public", "tag", RelKind::Table);
/// table.columns.push(ColumnInfo::new("name", "text", "text", 25, 'S'));
/// table.indexes.push(IndexInfo::unique("tag_pkey", &["name"]));
/// let snapshot = Snapshot { search_path: vec!["public".into()], tables: vec![table] };
/// let text = snapshot.to_text();
/// assert_eq!(Snapshot::parse(&text).unwrap(), snapshot);
/// assert!(snapshot.resolve(None, "tag").is_some());
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Snapshot {
    /// The schemas an unqualified table name was looked up in, in order.
    pub search_path: Vec<String>,
    /// The tables, sorted by schema and name.
    pub tables: Vec<TableInfo>,
}

const HEADER: &str =
    "# atomic-upsert schema snapshot, format 1. Written by `atomic-upsert-cli prepare`; commit it.";

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn flag(on: bool, name: &str) -> &str {
    if on { name } else { "-" }
}

/// An index's flags, space-separated (`-` for none): `nulls_not_distinct`, `deferrable`.
fn index_flags(index: &IndexInfo) -> String {
    let on: Vec<&str> = [
        (index.nulls_not_distinct, "nulls_not_distinct"),
        (index.deferrable, "deferrable"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "-".to_owned()
    } else {
        on.join(" ")
    }
}

impl Snapshot {
    /// The table `schema.name`, or `name` looked up along the `search_path`, as PostgreSQL
    /// resolves an unqualified name.
    #[must_use]
    pub fn resolve(&self, schema: Option<&str>, name: &str) -> Option<&TableInfo> {
        match schema {
            Some(schema) => self
                .tables
                .iter()
                .find(|t| t.schema == schema && t.name == name),
            None => self.search_path.iter().find_map(|schema| {
                self.tables
                    .iter()
                    .find(|t| &t.schema == schema && t.name == name)
            }),
        }
    }

    /// The file's text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        let path: Vec<String> = self.search_path.iter().map(|s| escape(s)).collect();
        let _ = writeln!(out, "search_path\t{}", path.join("\t"));
        for table in &self.tables {
            let _ = writeln!(
                out,
                "table\t{}\t{}\t{}",
                escape(&table.schema),
                escape(&table.name),
                table.kind.code()
            );
            for c in &table.columns {
                let _ = writeln!(
                    out,
                    "column\t{}\t{}\t{}\t{}\t{}\t{} {} {} {} {} {}\t{}",
                    escape(&c.name),
                    escape(&c.type_name),
                    escape(&c.base_type),
                    c.base_oid,
                    c.category,
                    flag(c.not_null, "not_null"),
                    flag(c.has_default, "default"),
                    flag(c.generated, "generated"),
                    flag(c.equality, "eq"),
                    flag(c.ordered, "ord"),
                    flag(c.bytewise_equality, "bytewise"),
                    c.collation
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), escape),
                );
                if let Some(default) = &c.default {
                    let _ = writeln!(out, "default\t{}\t{}", escape(&c.name), escape(default));
                }
            }
            for i in &table.indexes {
                let columns: Vec<String> = i.columns.iter().map(|c| escape(c)).collect();
                let _ = writeln!(
                    out,
                    "unique\t{}\t{}\t{}\t{}\t{}",
                    escape(&i.name),
                    i.constraint
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), escape),
                    index_flags(i),
                    i.predicate
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), escape),
                    columns.join("\t")
                );
            }
            if !table.partition_key.is_empty() {
                let key: Vec<String> = table.partition_key.iter().map(|c| escape(c)).collect();
                let _ = writeln!(out, "partition_key\t{}", key.join("\t"));
            }
            if let Some(partitions) = table.partitions {
                let _ = writeln!(out, "partitions\t{partitions}");
            }
        }
        out
    }

    /// Parses [`to_text`](Self::to_text)'s output; the error names the bad line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut snapshot = Snapshot::default();
        for (number, line) in text.lines().enumerate() {
            let bad = |what: &str| format!("line {}: {what}: {line:?}", number + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let table = || "a record before the first `table` line".to_owned();
            match fields.as_slice() {
                ["search_path", path @ ..] => {
                    snapshot.search_path = path.iter().map(|s| unescape(s)).collect();
                }
                ["table", schema, name, kind] => {
                    let kind = kind.chars().next().ok_or_else(|| bad("no kind"))?;
                    snapshot.tables.push(TableInfo::new(
                        &unescape(schema),
                        &unescape(name),
                        RelKind::from_code(kind),
                    ));
                }
                [
                    "column",
                    name,
                    type_name,
                    base_type,
                    oid,
                    category,
                    flags,
                    collation,
                ] => {
                    let t = snapshot.tables.last_mut().ok_or_else(|| bad(&table()))?;
                    let flags: Vec<&str> = flags.split(' ').collect();
                    let on = |name: &str| flags.contains(&name);
                    t.columns.push(ColumnInfo {
                        name: unescape(name),
                        type_name: unescape(type_name),
                        base_type: unescape(base_type),
                        base_oid: oid.parse().map_err(|_| bad("bad oid"))?,
                        category: category.chars().next().ok_or_else(|| bad("no category"))?,
                        not_null: on("not_null"),
                        has_default: on("default"),
                        generated: on("generated"),
                        equality: on("eq"),
                        ordered: on("ord"),
                        bytewise_equality: on("bytewise"),
                        collation: (*collation != "-").then(|| unescape(collation)),
                        default: None,
                    });
                }
                ["default", column, expression] => {
                    let t = snapshot.tables.last_mut().ok_or_else(|| bad(&table()))?;
                    let column = unescape(column);
                    let c = t
                        .columns
                        .iter_mut()
                        .find(|c| c.name == column)
                        .ok_or_else(|| bad("a default of no column listed before"))?;
                    c.default = Some(unescape(expression));
                }
                ["unique", name, constraint, flags, predicate, columns @ ..] => {
                    let flags: Vec<&str> = flags.split(' ').collect();
                    let t = snapshot.tables.last_mut().ok_or_else(|| bad(&table()))?;
                    let optional = |v: &str| (v != "-").then(|| unescape(v));
                    t.indexes.push(IndexInfo {
                        name: unescape(name),
                        columns: columns
                            .iter()
                            .filter(|c| !c.is_empty())
                            .map(|c| unescape(c))
                            .collect(),
                        predicate: optional(predicate),
                        nulls_not_distinct: flags.contains(&"nulls_not_distinct"),
                        constraint: optional(constraint),
                        deferrable: flags.contains(&"deferrable"),
                    });
                }
                ["partition_key", key @ ..] => {
                    let t = snapshot.tables.last_mut().ok_or_else(|| bad(&table()))?;
                    t.partition_key = key.iter().map(|s| unescape(s)).collect();
                }
                ["partitions", count] => {
                    let t = snapshot.tables.last_mut().ok_or_else(|| bad(&table()))?;
                    t.partitions = Some(count.parse().map_err(|_| bad("a partition count"))?);
                }
                _ => return Err(bad("not a snapshot record")),
            }
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::{ColumnInfo, IndexInfo, RelKind, Snapshot, TableInfo};

    #[test]
    fn round_trips_awkward_names_and_every_flag() {
        let mut table = TableInfo::new("my\tschema", "we,ird\\name", RelKind::Partitioned);
        let mut c = ColumnInfo::new("a,b", "character varying(20)", "varchar", 1043, 'S');
        c.not_null = true;
        c.has_default = true;
        c.default = Some("'a\tb'::text".into());
        c.generated = true;
        c.equality = false;
        c.ordered = false;
        c.bytewise_equality = false;
        c.collation = Some("case\tinsensitive".into());
        table.columns.push(c);
        table.indexes.push(IndexInfo {
            name: "i".into(),
            columns: vec!["x\ny".into(), "a,b".into()],
            predicate: Some("(NOT deleted)".into()),
            nulls_not_distinct: true,
            constraint: Some("c".into()),
            deferrable: true,
        });
        table.indexes.push(IndexInfo {
            columns: Vec::new(),
            ..IndexInfo::unique("expr", &[])
        });
        table.partition_key = vec!["day".into()];
        table.partitions = Some(3);
        let snapshot = Snapshot {
            search_path: vec!["app".into(), "public".into()],
            tables: vec![table, TableInfo::new("public", "v", RelKind::View)],
        };
        assert_eq!(Snapshot::parse(&snapshot.to_text()).unwrap(), snapshot);
        assert_eq!(
            snapshot.resolve(Some("public"), "v").unwrap().kind,
            RelKind::View
        );
        assert!(snapshot.resolve(None, "missing").is_none());
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = Snapshot::parse("search_path\tpublic\ncolumn\tx").unwrap_err();
        assert!(error.starts_with("line 2:"), "{error}");
    }
}
