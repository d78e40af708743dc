//! Reads what PostgreSQL's catalog says about a table into `upsert_core`'s schema model: the
//! same model the derive reads from a snapshot, so both check with the same rules.

use sqlx::Row as _;
use sqlx::postgres::PgConnection;
use upsert_core::schema::{ColumnInfo, IndexInfo, RelKind, Snapshot, TableInfo};
use upsert_core::{Dialect as _, Postgres};

use crate::error::Error;

/// The relation `schema.name` (or `name` along the `search_path`), as PostgreSQL resolves it.
const RESOLVE: &str = "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.oid = pg_catalog.to_regclass($1)";

/// Every table and view of the schemas on the `search_path`, and the path itself.
const LIST: &str = "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = ANY (pg_catalog.current_schemas(false)) \
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition \
     ORDER BY n.nspname, c.relname";

const SEARCH_PATH: &str = "SELECT pg_catalog.current_schemas(false)::text[]";

/// A default operator class of access method `am` serves the base type `bt` (directly, as
/// an enum, array or range, or through a binary-coercible cast such as varchar → text).
macro_rules! opclass_exists {
    ($am:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod \
             WHERE oc.opcdefault AND am.amname IN (",
            $am,
            ") AND (oc.opcintype = bt.oid \
               OR (bt.typtype = 'e' AND oc.opcintype = 'anyenum'::regtype) \
               OR (bt.typcategory = 'A' AND oc.opcintype = 'anyarray'::regtype) \
               OR (bt.typtype = 'r' AND oc.opcintype = 'anyrange'::regtype) \
               OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast ca WHERE ca.castsource = bt.oid \
                          AND ca.casttarget = oc.opcintype AND ca.castmethod = 'b')))"
        )
    };
}

const COLUMNS: &str = concat!(
    "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), bt.typname::text, \
       bt.oid::int8, bt.typcategory::text, \
       (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)), \
       (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' \
        OR (t.typtype = 'd' AND t.typdefault IS NOT NULL)), \
       a.attgenerated <> '', ",
    opclass_exists!("'btree', 'hash'"),
    ", ",
    opclass_exists!("'btree'"),
    ", (coalesce(coll.collisdeterministic, true) AND bt.typname <> 'citext'), \
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> bt.typcollation THEN coll.collname::text END, \
       CASE WHEN a.attgenerated = '' THEN coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), \
         CASE WHEN t.typtype = 'd' THEN t.typdefault END) END \
     FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
     JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END \
     LEFT JOIN pg_catalog.pg_collation coll ON coll.oid = a.attcollation \
     LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
     WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY a.attnum"
);

/// Valid unique indexes: name, key columns (NULL for an expression), predicate, NULLS NOT
/// DISTINCT, the constraint they back, and whether that constraint is deferrable.
const INDEXES: &str = "SELECT ic.relname::text, \
       CASE WHEN 0 = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]) THEN NULL ELSE \
         ARRAY(SELECT a.attname::text \
               FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord) \
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
               ORDER BY k.ord) END, \
       pg_catalog.pg_get_expr(i.indpred, i.indrelid), i.indnullsnotdistinct, \
       (SELECT con.conname::text FROM pg_catalog.pg_constraint con \
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')), \
       COALESCE((SELECT con.condeferrable FROM pg_catalog.pg_constraint con \
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')), false) \
     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
     WHERE i.indrelid = $1::int8::oid AND i.indisunique AND i.indisvalid \
     ORDER BY ic.relname";

/// A partitioned table's partition key columns, its own first, then those of its
/// sub-partitioned partitions (by depth, each column once), and how many leaf partitions
/// the tree has.
const PARTITIONS: &str = "SELECT ARRAY(SELECT a.attname::text \
       FROM pg_catalog.pg_partition_tree($1::int8::oid) AS t \
       JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = t.relid \
       CROSS JOIN unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord) \
       JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum \
       GROUP BY a.attname ORDER BY min(t.level), min(k.ord)), \
     (SELECT count(*)::int8 FROM pg_catalog.pg_partition_tree($1::int8::oid) WHERE isleaf)";

/// A row of [`RESOLVE`] or [`LIST`]: oid, schema, name, `relkind`.
type Relation = (i64, String, String, String);

/// The table `name` (in `schema`, else along the `search_path`), or `None`.
pub(crate) async fn read_table(
    conn: &mut PgConnection,
    schema: Option<&str>,
    name: &str,
) -> Result<Option<TableInfo>, sqlx::Error> {
    let qualified = Postgres.quote_table(&upsert_core::Table { schema, name });
    let Some(relation) = sqlx::query_as::<_, Relation>(RESOLVE)
        .bind(qualified)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    read_relation(conn, relation).await.map(Some)
}

/// Every table and view on the connection's `search_path`.
pub(crate) async fn read_snapshot(conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
    let search_path: Vec<String> = sqlx::query_scalar(SEARCH_PATH)
        .fetch_one(&mut *conn)
        .await?;
    let relations = sqlx::query_as::<_, Relation>(LIST)
        .fetch_all(&mut *conn)
        .await?;
    let mut tables = Vec::with_capacity(relations.len());
    for relation in relations {
        tables.push(read_relation(conn, relation).await?);
    }
    Ok(Snapshot {
        search_path,
        tables,
    })
}

async fn read_relation(
    conn: &mut PgConnection,
    (oid, schema, name, kind): Relation,
) -> Result<TableInfo, sqlx::Error> {
    let kind = RelKind::from_code(kind.chars().next().unwrap_or('r'));
    let mut table = TableInfo::new(&schema, &name, kind);
    for row in sqlx::query(COLUMNS).bind(oid).fetch_all(&mut *conn).await? {
        let category: String = row.try_get(4)?;
        let base_oid: i64 = row.try_get(3)?;
        table.columns.push(ColumnInfo {
            name: row.try_get(0)?,
            type_name: row.try_get(1)?,
            base_type: row.try_get(2)?,
            base_oid: u32::try_from(base_oid).unwrap_or_default(),
            category: category.chars().next().unwrap_or('X'),
            not_null: row.try_get(5)?,
            has_default: row.try_get(6)?,
            generated: row.try_get(7)?,
            equality: row.try_get(8)?,
            ordered: row.try_get(9)?,
            bytewise_equality: row.try_get(10)?,
            collation: row.try_get(11)?,
            default: row.try_get(12)?,
        });
    }
    for row in sqlx::query(INDEXES).bind(oid).fetch_all(&mut *conn).await? {
        let columns: Option<Vec<String>> = row.try_get(1)?;
        table.indexes.push(IndexInfo {
            name: row.try_get(0)?,
            columns: columns.unwrap_or_default(),
            predicate: row.try_get(2)?,
            nulls_not_distinct: row.try_get(3)?,
            constraint: row.try_get(4)?,
            deferrable: row.try_get(5)?,
        });
    }
    if kind == RelKind::Partitioned {
        let (key, leaves): (Vec<String>, i64) = sqlx::query_as(PARTITIONS)
            .bind(oid)
            .fetch_one(&mut *conn)
            .await?;
        table.partition_key = key;
        table.partitions = Some(u32::try_from(leaves).unwrap_or(u32::MAX));
    }
    Ok(table)
}

/// Reads every table and view of the schemas on the connection's `search_path` (with their
/// columns, types, unique indexes and constraints): what `atomic-upsert-cli prepare` writes
/// to the snapshot file that the derive checks structs against at compile time.
///
/// ```no_run
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// let snapshot = atomic_upsert::schema::snapshot(&pool).await?;
/// std::fs::write("atomic-upsert.schema", snapshot.to_text()).expect("writable");
/// # Ok(()) }
/// ```
pub async fn snapshot<'c, A>(executor: A) -> Result<Snapshot, Error>
where
    A: sqlx::Acquire<'c, Database = sqlx::Postgres> + Send,
{
    let mut conn = executor.acquire().await.map_err(Error::Sqlx)?;
    read_snapshot(&mut conn).await.map_err(Error::Sqlx)
}
