//! The rules of [`check`](super::check), one method per rule over a field, its column and
//! the table's indexes.

use crate::dialect::Dialect;
use crate::model::{ConflictTarget, Model, NullKeys};
use crate::role::{Insert, Role, Strategy, Update};
use crate::schema::{ColumnInfo, IndexInfo, RelKind, TableInfo};

use super::fixes::{alter_column, create_unique_index, same_default};
use super::mismatch::{FieldFacts, Kind, Mismatch, Site};
use super::names::{near_column, normalize_predicate};

/// The rules' state: the dialect of the fixes, the table's quoted name, the mismatches.
pub(super) struct Ctx<'a> {
    pub(super) dialect: &'a dyn Dialect,
    /// The quoted, qualified table name.
    pub(super) name: &'a str,
    pub(super) out: Vec<Mismatch>,
}

impl Ctx<'_> {
    pub(super) fn push(
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
    pub(super) fn drop_index(&self, index: &IndexInfo) -> String {
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
    pub(super) fn nullable_field(
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
    pub(super) fn column_default(
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

    pub(super) fn alter(&self, column: &str, rest: &str) -> String {
        alter_column(self.dialect, self.name, column, rest)
    }

    pub(super) fn field(
        &mut self,
        index: usize,
        field: &FieldFacts,
        table: &TableInfo,
        model: &Model,
    ) {
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
    pub(super) fn type_rules(
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

    pub(super) fn unwritten_columns(&mut self, fields: &[FieldFacts], table: &TableInfo) {
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

    pub(super) fn target(&mut self, model: &Model, fields: &[FieldFacts], table: &TableInfo) {
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
    pub(super) fn null_key_rules(
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
    pub(super) fn key_equality_rules(&mut self, fields: &[FieldFacts], table: &TableInfo) {
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
    pub(super) fn ignored_predicate(
        &mut self,
        model: &Model,
        keys: &[&str],
        wanted: &str,
        plain: &IndexInfo,
    ) {
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
    pub(super) fn keys_target<'t>(
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
