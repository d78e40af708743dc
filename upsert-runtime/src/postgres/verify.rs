//! `verify`: one struct against its live table. The structural rules come from
//! `upsert_core::verify` (the same the derive applies to a snapshot); the runtime adds what
//! only a live server can tell: whether each field's Rust type is compatible with its column
//! (sqlx's own rules), and whether PostgreSQL plans the struct's statements (an arbiter index
//! for ON CONFLICT is inferred at planning), by `EXPLAIN` with typed NULL parameters inside a
//! transaction that is rolled back.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgConnection, PgTypeInfo, Postgres};
use sqlx::{Acquire, AssertSqlSafe};
use upsert_core::verify::{self as rules, FieldFacts, Kind, Mismatch, Site};
use upsert_core::{
    ConflictTarget, Dialect as _, FieldDef, InsertFlag, Model, Postgres as Pg, Table,
};

use crate::dispatch::VerifiesAll;
use crate::error::Error;
use crate::postgres::catalog;
use crate::postgres::generated::{FieldSpec, Generated};
use crate::verifying::{Registered, RegisteredVerify, VerifyFuture, verified};

/// What `verify` checks: a struct's table, fields, target, guards and statements, from its
/// constants and plan.
pub(crate) struct Subject {
    pub(crate) table: Table<'static>,
    pub(crate) struct_name: &'static str,
    pub(crate) fields: &'static [FieldSpec],
    pub(crate) target: ConflictTarget<'static>,
    pub(crate) update_where: Option<&'static str>,
    pub(crate) skip_unchanged: bool,
    pub(crate) nulls_not_distinct: bool,
    /// `UPSERT_SQL`.
    pub(crate) upsert_sql: &'static str,
    /// `UPSERT_MANY_SQL`.
    pub(crate) many_sql: &'static str,
    /// `#[upsert(partitioned)]`: the statements PostgreSQL 18 runs instead.
    pub(crate) returning_old: Option<crate::postgres::generated::ReturningOld>,
}

impl Subject {
    /// The subject of `T`.
    pub(crate) fn of_struct<T: Generated>() -> Self {
        let plan = T::PLAN;
        Subject {
            table: Table {
                schema: T::KEY.schema,
                name: T::KEY.table,
            },
            struct_name: plan.struct_name,
            fields: plan.fields,
            target: plan.target,
            update_where: plan.update_where,
            skip_unchanged: plan.skip_unchanged,
            nulls_not_distinct: plan.nulls_not_distinct,
            upsert_sql: T::PLAN.sql.upsert_sql,
            many_sql: T::PLAN.sql.upsert_many_sql,
            returning_old: plan.returning_old,
        }
    }
}

/// `T::verify` on a connection: what the derive registers for `verify_all`.
pub(crate) fn verify_struct<T: Generated>(conn: &mut PgConnection) -> VerifyFuture<'_> {
    Box::pin(verify(conn, Subject::of_struct::<T>()))
}

/// The build-time check (`upsert_core::verify::check_offline`, what the derive runs on a
/// schema snapshot) of `T` against its live table: the conformance matrix compares its
/// verdicts with `verify`'s and with what the statements do.
pub(crate) async fn offline<T: Generated>(conn: &mut PgConnection) -> Result<Vec<Mismatch>, Error> {
    let subject = Subject::of_struct::<T>();
    let found = catalog::read_table(conn, subject.table.schema, subject.table.name)
        .await
        .map_err(Error::Sqlx)?;
    // Each sent type as the derive names it: the derive has no sqlx to ask.
    let sent_as: Vec<Option<&str>> = subject
        .fields
        .iter()
        .map(|f| {
            f.class
                .filter(|class| !class.needs_feature())
                .map(|class| class.columns()[0])
        })
        .collect();
    let facts = subject.facts(&sent_as);
    let rust_types: Vec<&str> = subject.fields.iter().map(|f| f.rust_type).collect();
    let model = subject.model(&facts);
    Ok(rules::check_offline(
        &Pg,
        &model,
        &facts,
        &rust_types,
        found.as_ref(),
    ))
}

impl Subject {
    /// What the struct says of each field, with the name of the SQL type it is sent as
    /// (`sent_as`, in field order).
    fn facts<'a>(&self, sent_as: &[Option<&'a str>]) -> Vec<FieldFacts<'a>> {
        self.fields
            .iter()
            .zip(sent_as)
            .map(|(f, sent_as)| FieldFacts {
                field: f.field,
                column: f.column,
                role: f.role,
                optional: f.optional,
                sql_type: *sent_as,
                cast: f.cast,
                collate: f.collate,
                array: f.array,
                text: f.text,
                class: f.class,
                default: f.default,
                sent: f.sent,
            })
            .collect()
    }

    /// The core model of the struct.
    fn model<'m>(&self, facts: &'m [FieldFacts<'_>]) -> Model<'m> {
        let defs: Vec<FieldDef> = facts.iter().map(FieldFacts::def).collect();
        Model::of_fields(
            self.table,
            self.target,
            &defs,
            self.update_where,
            self.skip_unchanged,
            self.nulls_not_distinct,
        )
        .with_flag(InsertFlag::of_table(self.returning_old.is_some()))
    }
}

/// Checks `subject` in a transaction (a savepoint inside the caller's) that is rolled back.
pub(crate) async fn verify<'c, A>(executor: A, subject: Subject) -> Result<(), Error>
where
    A: Acquire<'c, Database = Postgres>,
{
    let mut tx = executor.begin().await.map_err(Error::Sqlx)?;
    let mismatches = check(&mut tx, &subject).await;
    tx.rollback().await.map_err(Error::Sqlx)?;
    verified(subject.struct_name, &subject.table, mismatches?)
}

async fn check(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Mismatch>, Error> {
    let plan = subject;
    let found = catalog::read_table(conn, subject.table.schema, subject.table.name)
        .await
        .map_err(Error::Sqlx)?;
    let sql_types: Vec<Option<PgTypeInfo>> = plan
        .fields
        .iter()
        .map(|f| f.sql.map(|sql| (sql.type_info)()))
        .collect();
    let sent_as: Vec<Option<&str>> = sql_types
        .iter()
        .map(|ty| ty.as_ref().map(sqlx::TypeInfo::name))
        .collect();
    let facts = subject.facts(&sent_as);
    let model = subject.model(&facts);
    let rust_types: Vec<&str> = plan.fields.iter().map(|f| f.rust_type).collect();
    let mut out = rules::check_offline(&Pg, &model, &facts, &rust_types, found.as_ref());
    let Some(table) = found else {
        return Ok(out);
    };
    // The types the core does not know (an enum, a newtype, uuid, dates, ..): sqlx's own
    // rule, on the column's type as sqlx sees it when it reads the row back (a domain as
    // its base type, as PostgreSQL sends it).
    for (index, field) in plan.fields.iter().enumerate() {
        let (Some(sql), Some(column)) = (field.sql, table.column(field.column)) else {
            continue;
        };
        let array = field.array;
        // The core's rule covered the types it knows.
        if !array && field.class.is_some() {
            continue;
        }
        let read = if array {
            // An array field is checked by its element type; a column that is no array
            // fits no array field.
            element_type(conn, column.base_oid).await?
        } else {
            Some(type_info(&column.base_type))
        };
        if read.is_some_and(|read| (sql.compatible)(&read)) {
            continue;
        }
        out.push(rules::column_type_mismatch(
            &Pg,
            &Pg.quote_table(&subject.table),
            index,
            &facts[index],
            field.rust_type,
            column,
        ));
    }
    let unreadable = out.iter().any(|m| {
        matches!(
            m.kind,
            Kind::MissingTable | Kind::NotATable | Kind::MissingColumn
        )
    });
    if !unreadable {
        statements(conn, subject, &sql_types, &model, &mut out).await?;
    }
    Ok(out)
}

/// The type sqlx compares a field's type with: the column's base type by name (`int8`,
/// `mood`), which sqlx compares with its own types by name, as it does when it reads the
/// row back. (`PgTypeInfo::with_oid` compares equal to every named type, an enum's too.)
fn type_info(name: &str) -> PgTypeInfo {
    PgTypeInfo::with_name(interned(name))
}

/// `name` as a `&'static str` (sqlx's named types take one), each distinct name kept once.
fn interned(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&known) = names.iter().find(|&&known| known == name) {
        return known;
    }
    let leaked: &'static str = name.to_owned().leak();
    names.push(leaked);
    leaked
}

/// The element type of an array type, through any domains over it (`email[]` with `email`
/// a domain over `text` gives `text`), or `None` for a type that is not an array.
async fn element_type(conn: &mut PgConnection, oid: u32) -> Result<Option<PgTypeInfo>, Error> {
    let element: Option<(i64, String)> = sqlx::query_as(
        "WITH RECURSIVE t(oid, typtype, base, name) AS ( \
             SELECT e.oid, e.typtype, e.typbasetype, e.typname::text FROM pg_catalog.pg_type a \
             JOIN pg_catalog.pg_type e ON e.oid = a.typelem \
             WHERE a.oid = $1::int8::oid AND a.typcategory = 'A' \
           UNION ALL \
             SELECT d.oid, d.typtype, d.typbasetype, d.typname::text FROM t \
             JOIN pg_catalog.pg_type d ON d.oid = t.base WHERE t.typtype = 'd') \
         SELECT oid::int8, name FROM t WHERE typtype <> 'd'",
    )
    .bind(i64::from(oid))
    .fetch_optional(conn)
    .await
    .map_err(Error::Sqlx)?;
    Ok(element.map(|(_, name)| type_info(&name)))
}

/// `EXPLAIN`s the single-row and the batch statement with typed NULLs: PostgreSQL parses
/// them, resolves every operator and infers the arbiter index, without writing.
async fn statements(
    conn: &mut PgConnection,
    subject: &Subject,
    sql_types: &[Option<PgTypeInfo>],
    model: &Model<'_>,
    out: &mut Vec<Mismatch>,
) -> Result<(), Error> {
    let bound: Vec<usize> = subject
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.role.is_bound())
        .map(|(i, _)| i)
        .collect();
    let mut rejected: Option<sqlx::Error> = None;
    for (sql, arrays) in sent_statements(conn, subject) {
        let explain = format!("EXPLAIN {sql}");
        let mut query = sqlx::query(AssertSqlSafe(explain));
        for &i in &bound {
            let field = &subject.fields[i];
            let ty = match (field.sql, &sql_types[i]) {
                (Some(sql), _) if arrays => (sql.array_type_info)(),
                (_, Some(ty)) => ty.clone(),
                _ => continue,
            };
            if arrays && field.array {
                // An array column: the rows' NULL flags, the flat elements, their rows.
                query = query
                    .bind(TypedNull(
                        <bool as sqlx::postgres::PgHasArrayType>::array_type_info(),
                    ))
                    .bind(TypedNull(ty))
                    .bind(TypedNull(
                        <i64 as sqlx::postgres::PgHasArrayType>::array_type_info(),
                    ));
                continue;
            }
            query = query.bind(TypedNull(ty));
        }
        let mut savepoint = sqlx::Connection::begin(&mut *conn)
            .await
            .map_err(Error::Sqlx)?;
        let result = query.execute(&mut *savepoint).await;
        savepoint.rollback().await.map_err(Error::Sqlx)?;
        if let Err(error) = result {
            rejected.get_or_insert(error);
        }
    }
    let Some(error) = rejected else {
        // PostgreSQL inferred an arbiter: a partial index's predicate is implied by
        // `conflict_where` even where the text differs.
        out.retain(|m| m.kind != Kind::PartialIndex);
        return Ok(());
    };
    let Some(db) = error.as_database_error() else {
        return Err(Error::Sqlx(error));
    };
    let target_reported = out.iter().any(|m| {
        matches!(
            m.kind,
            Kind::NoUniqueIndex
                | Kind::PartialIndex
                | Kind::Constraint
                | Kind::DeferrableConstraint
                | Kind::IgnoredPredicate
        )
    });
    if db.code().as_deref() == Some("42P10") {
        if !target_reported {
            let keys: Vec<&str> = model.keys().iter().map(|c| c.name).collect();
            out.push(Mismatch {
                kind: Kind::NoUniqueIndex,
                site: Site::Target,
                field: None,
                column: None,
                needs: format!(
                    "a unique index that ON CONFLICT ({}) can use",
                    keys.join(", ")
                ),
                has: format!("none PostgreSQL accepts ({})", db.message()),
                fix: rules::create_unique_index(
                    &Pg,
                    &model.table,
                    &keys,
                    match model.target {
                        ConflictTarget::Keys { predicate } => predicate,
                        ConflictTarget::Constraint(_) => None,
                    },
                ),
            });
        }
    } else if out.is_empty() {
        out.push(Mismatch {
            kind: Kind::Statement,
            site: Site::Table,
            field: None,
            column: None,
            needs: "PostgreSQL to accept the upsert statements".into(),
            has: format!(
                "a schema that rejects them: {} (SQLSTATE {})",
                db.message(),
                db.code().unwrap_or_default()
            ),
            fix: "compare the struct's attributes with the table (the message names the part)"
                .into(),
        });
    }
    Ok(())
}

/// The statements `EXPLAIN` checks (each with whether it binds arrays): the single-row and
/// the batch statement, and a partitioned struct's PostgreSQL 18 forms on a server that
/// runs them.
fn sent_statements(conn: &PgConnection, subject: &Subject) -> Vec<(&'static str, bool)> {
    let mut sent = vec![(subject.upsert_sql, false), (subject.many_sql, true)];
    if let Some(old) = subject.returning_old
        && crate::postgres::execute::returns_old(conn)
    {
        sent.extend([(old.upsert, false), (old.upsert_many, true)]);
    }
    sent
}

/// A NULL parameter of a given type: `EXPLAIN` plans the statement as sqlx would send it.
struct TypedNull(PgTypeInfo);

impl sqlx::Type<Postgres> for TypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("unknown")
    }
}

impl sqlx::Encode<'_, Postgres> for TypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.0.clone())
    }
}

// The structs' `verify`s, registered by the derive for [`verify_all`](crate::verify_all).
inventory::collect!(Registered<PgConnection>);

impl VerifiesAll for Postgres {
    fn registered() -> Vec<(&'static str, RegisteredVerify<PgConnection>)> {
        Registered::all()
    }
}

/// Autoref specialization for the registration of `verify_all`:
/// `(&Probe::<T>::new()).registered()` is `T`'s verify when `T` is an
/// [`AtomicUpsert`](crate::AtomicUpsert) and a verify that checks nothing otherwise, without
/// a compile error either way. A struct whose field types cannot be sent has no working impl
/// (already an error at the field), and its registration must add no second error.
pub struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe of `T`.
    #[must_use]
    pub const fn new() -> Self {
        Probe(std::marker::PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe of an [`AtomicUpsert`](crate::AtomicUpsert) struct.
pub trait ProbeRegistered {
    /// `T::verify`, on a connection.
    fn registered(&self) -> RegisteredVerify<PgConnection>;
}

impl<T: Generated + 'static> ProbeRegistered for Probe<T> {
    fn registered(&self) -> RegisteredVerify<PgConnection> {
        verify_struct::<T>
    }
}

/// The probe of any other type.
pub trait ProbeUnregistered {
    /// A verify that checks nothing (never in a program that compiles).
    fn registered(&self) -> RegisteredVerify<PgConnection>;
}

impl<T: ?Sized> ProbeUnregistered for &Probe<T> {
    fn registered(&self) -> RegisteredVerify<PgConnection> {
        |_| Box::pin(std::future::ready(Ok(())))
    }
}

/// The build-time schema check's mismatches for `T` (what the derive reports from a schema
/// snapshot), run on `T`'s live table: hidden, for the conformance tests that compare it
/// with `verify` and with what the statements do.
///
/// # Errors
/// When the catalog cannot be read.
pub async fn offline_check<T: Generated>(conn: &mut PgConnection) -> Result<Vec<Mismatch>, Error> {
    offline::<T>(conn).await
}
