//! What the audit knows of the whole crate before it reads any function: the SQL kept in
//! constants, the functions that handle a unique violation, the types of structs' fields,
//! the implementors of each trait, the methods of each type, and the other names of
//! `SeaORM` models. The helper passes and the reporting pass resolve calls with it; the
//! audit (`mod.rs`, `index`) builds it, with what `ops` recognises. Also which attributes
//! mark test code, which every pass leaves out.

/// What the audit knows of the whole crate before it reads any function.
#[derive(Debug, Default)]
pub struct Index {
    /// The crate's string constants that hold SQL, by name (a name bound twice to different
    /// SQL is left out).
    pub consts: std::collections::HashMap<String, String>,
    /// The names of the crate's functions that handle a unique violation (an error mapper
    /// such as `map_sqlx_error`, passed to `map_err` by the functions that insert).
    pub handlers: std::collections::HashSet<String>,
    /// Those of [`Index::handlers`] that turn the violation into an error inside a
    /// `map_err` (`.context("..")` answering `DatabaseError::Conflict`): like a `From`
    /// conversion, that answers a check that rejects, not one that goes on as if the row
    /// were there.
    pub error_mappers: std::collections::HashSet<String>,
    /// The crate's error types whose `From` conversion handles a unique violation (turns
    /// MySQL's `1062` or PostgreSQL's `23505` into the answer the check gives), and the
    /// `Result` aliases that name one: a function returning one answers a lost race the
    /// way its check does, through `?`.
    pub converters: std::collections::HashSet<String>,
    /// The names of the crate's functions that answer `true` when a row is absent: their
    /// value is a read's "nothing" (`Ok(find_by_email(..).await?.is_none())`, `!exists`).
    /// A condition on a call to one (`if !is_email_unique(..) { return Err(..) }`) holds
    /// when the row was found where it does not. (A name some other `bool` function also
    /// has is left out.)
    pub absence_tests: std::collections::HashSet<String>,
    /// The crate's functions that answer a `SeaORM` query not yet fetched (`fn base_find()
    /// -> Select<Entity>`), by name, with its table (`entity` for the bare `Entity` of the
    /// file that calls it): `base_find().filter(..).one(db)` reads that table. A name two
    /// such functions share for different tables is left out.
    pub select_makers: std::collections::HashMap<String, String>,
    /// The crate's functions whose value is a `SeaORM` `ActiveModel` (`fn build(self,
    /// account: &Account) -> Result<ActiveModel, ValidationErrors>`), by `Type::name` (or
    /// `name`), with its table and the index of the file that defines it (the table
    /// `entity` stands for the bare `ActiveModel` of that file, see
    /// [`Index::entity_of_file`]): `let m = input.build(&account)?; m.insert(db)` inserts
    /// into that table. A name two such functions share for different tables is left out.
    pub model_builders: std::collections::HashMap<String, (String, usize)>,
    /// The crate's functions whose value is a Diesel query not yet fetched (`fn query() ->
    /// _ { profile::table.left_join(..) }`), by `Type::name` (or `name`), with that query:
    /// `let query = Self::query(); .. query.filter(..).first(conn)` reads its table. A
    /// name two such functions share for different tables is left out.
    pub query_makers: std::collections::HashMap<String, MadeQuery>,
    /// The crate's functions that take a lock (an advisory lock, `LOCK TABLE`,
    /// `GET_LOCK`) and do nothing else: calling one takes it (`lock_data_key(conn, ..)`
    /// before a check). A free function by its name, a method as `Type::name`.
    pub lockers: std::collections::HashSet<String>,
    /// The crate's functions that only lock rows (`SELECT .. FOR UPDATE` of a parent
    /// row), named as [`Index::lockers`] are: a check after calling one is serialized for
    /// that row.
    pub row_lockers: std::collections::HashSet<String>,
    /// The names of the crate's functions that open a transaction holding SQLite's write
    /// lock from `BEGIN` (wrappers of Diesel's `immediate_transaction` /
    /// `exclusive_transaction`): what runs in the closure given them cannot race. Found by
    /// the callers' walk (`callers::Found::write_lockers`).
    pub write_lockers: std::collections::HashSet<String>,
    /// Each audited file's module name, by its place in the audit's list: its stem, or
    /// its directory's name for a `mod.rs` or `lib.rs`.
    pub modules: Vec<String>,
    /// The table whose `SeaORM` entity each audited file, by its place in the audit's
    /// list, imports by its bare names (`use crate::entity::smtp_configs::{ActiveModel,
    /// Entity as SmtpConfigEntity};`): what a bare `ActiveModel { .. }` there inserts into.
    pub bare_entities: Vec<Option<String>>,
    /// The Diesel tables and columns each audited file, by its place in the audit's list,
    /// imports under another name (`use schema::invitations::dsl::{invitations as
    /// invitations_table}`), by that name: `invitations_table.filter(..)` reads
    /// `invitations`.
    pub diesel_renames: Vec<std::collections::HashMap<String, String>>,
    /// Whether each audited file, by its place in the audit's list, talks to its database
    /// through a client the audit does not read (rusqlite, `tokio-postgres`, the `mysql`
    /// crates) and never names sqlx: its SQL strings are that client's, not sqlx's
    /// ([`other_client`]).
    pub other_client: Vec<bool>,
    /// The type of each struct's field, by struct and field, reduced to the type that
    /// holds the methods (`repository: Arc<dyn UserRepository>` -> `UserRepository`).
    pub fields: std::collections::HashMap<(String, String), String>,
    /// The types that implement each trait of the crate, by trait.
    pub implementors: std::collections::HashMap<String, Vec<String>>,
    /// The methods each type has from a trait's own body (it implements the trait and does
    /// not define them), by type: the trait and its methods.
    pub inherited: std::collections::HashMap<String, Vec<(String, Vec<String>)>>,
    /// `SeaORM` models and entities imported or aliased under another name, with their
    /// table (`use user::Model as DbUser;`, `type DbUser = user::Model;`).
    pub aliases: Aliases,
    /// The crate writes through one connection kept behind a mutex (a struct field such as
    /// `writer: Arc<Mutex<SqliteConnection>>`) or a SQLite pool of one connection
    /// (`SqlitePoolOptions::new().max_connections(1)`): a function that holds that mutex's
    /// guard as its connection, or takes a transaction (begun on that connection), or is a
    /// method of a struct holding one, runs one writer at a time.
    pub single_writer: bool,
    /// The structs that own a SQLite connection outright (`connection: SqliteConnection`):
    /// a method of theirs taking `&mut self` has the connection to itself (its callers
    /// share the struct behind a lock, or not at all), and SQLite is one file one process
    /// writes.
    pub connection_owners: std::collections::HashSet<String>,
    /// The table of each struct that names one for Diesel (`#[diesel(table_name =
    /// schema::entity)]`, Diesel 1's `#[table_name = "entity"]`) or for a query builder
    /// (`#[table(name = "projects")]`), by struct: what `types::Entity::table()` or
    /// `InsertQueryBuilder::new(DBProject::table_name())` reads or writes.
    pub diesel_tables: std::collections::HashMap<String, String>,
    /// The functions the crate's `impl` blocks define, by type ([`MACRO_METHODS`] among
    /// them when a macro call makes some).
    pub methods: std::collections::HashMap<String, std::collections::HashSet<String>>,
    /// The type each accessor of the crate's `impl` blocks and traits (a method taking
    /// `self` alone) returns, by name, when that is one type of the crate (one with
    /// methods, or a trait with implementors): `repo.user_email()` of a repository
    /// returning `Box<dyn UserEmailRepository + '_>` is a `UserEmailRepository`, whose
    /// `count(..)` and `add(..)` are its implementors'. A call of one without arguments is
    /// that accessor, not another function of the name.
    pub returns: std::collections::HashMap<String, String>,
    /// The type each function without arguments returns, by `Type::name` in an `impl`
    /// block (`name` for a free one), when that is one type of the crate: `let repo =
    /// Self::repo();` holds a `DieselEpisodeRepository`.
    pub makers: std::collections::HashMap<String, String>,
    /// The structs whose derive, one of the crate's own proc-macros, generates an insert
    /// (its source builds an `INSERT INTO` statement), by struct: the struct's table (its
    /// `#[table(..)]`, else its name in lower case) and the methods the derive generates
    /// that insert (`User::new(..).save(&pool)`).
    pub derived_inserts: std::collections::HashMap<String, (String, Vec<String>)>,
}

/// Stands for the methods a macro call in an `impl` block makes, whatever their names.
pub const MACRO_METHODS: &str = "$macro";

impl Index {
    /// The table a bare `Entity` or `ActiveModel` names in file `file` (by its place in the
    /// audit's list): the entity its `use` imports alone, else the file's module
    /// (`table/folders.rs`), so that two modules' bare entities are not taken for one
    /// table.
    pub fn entity_of_file(&self, file: usize) -> Option<String> {
        self.bare_entities
            .get(file)
            .and_then(Option::as_ref)
            .or_else(|| self.modules.get(file))
            .filter(|module| !module.is_empty())
            .cloned()
    }

    /// Whether calling `name` takes one of the crate's locks: `owner` is the type a path
    /// call names (`SynapseReader::new(..)`), `None` for a free function's call; a method
    /// call (`method`), whose receiver's type the audit may not know, matches a locking
    /// method of that name on any type.
    pub fn locks(&self, name: &str, owner: Option<&str>, method: bool) -> bool {
        Self::calls_one_of(&self.lockers, name, owner, method)
    }

    /// Whether calling `name` locks rows ([`Index::row_lockers`]), matched as
    /// [`Index::locks`] matches.
    pub fn locks_rows(&self, name: &str, owner: Option<&str>, method: bool) -> bool {
        Self::calls_one_of(&self.row_lockers, name, owner, method)
    }

    /// Whether a call of `name` (see [`Index::locks`]) names one of `functions` (free
    /// functions by name, methods as `Type::name`).
    fn calls_one_of(
        functions: &std::collections::HashSet<String>,
        name: &str,
        owner: Option<&str>,
        method: bool,
    ) -> bool {
        // (Asked at every method call of the audited code: no allocation.)
        if method {
            return functions.iter().any(|l| {
                l.strip_suffix(name)
                    .is_some_and(|owner| owner.ends_with("::"))
            });
        }
        match owner {
            Some(owner) => functions.contains(&format!("{owner}::{name}")),
            None => functions.contains(name),
        }
    }

    /// Whether the crate may define a function `name` for type `ty` (a macro call in one of
    /// its `impl` blocks may make any; a trait's implementors have theirs).
    pub fn defines(&self, ty: &str, name: &str) -> bool {
        self.methods
            .get(ty)
            .is_some_and(|m| m.contains(name) || m.contains(MACRO_METHODS))
            || self.implementors.contains_key(ty)
            || self.inherited.get(ty).is_some_and(|traits| {
                traits
                    .iter()
                    .any(|(_, methods)| methods.iter().any(|m| m == name))
            })
    }

    /// The types whose methods a call on `ty` may run: `ty` itself, and when it is a
    /// trait, the types that implement it.
    pub fn owners(&self, ty: &str) -> Vec<String> {
        let mut owners = vec![ty.to_owned()];
        if let Some(types) = self.implementors.get(ty) {
            owners.extend(types.iter().cloned());
        }
        owners
    }
}

/// The Diesel query one of the crate's query makers makes ([`Index::query_makers`]): its
/// table, the keys its filters name and the tables it joins.
#[derive(Debug, Clone)]
pub struct MadeQuery {
    pub table: String,
    pub keys: Vec<String>,
    pub joined: Vec<String>,
}

/// Other names of `SeaORM` models, by name, with their table.
pub type Aliases = std::collections::HashMap<String, String>;

/// Whether a type name is one a `SeaORM` entity module defines for its table.
pub fn is_model(name: &str) -> bool {
    matches!(name, "Model" | "ActiveModel" | "Entity")
}

/// The type that holds a field's methods: the last path segment after smart pointers,
/// references and `dyn` (`Arc<dyn UserRepository>`, `&'a Box<Pool>`, `Option<Arc<Cache>>`).
pub fn core_type(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => core_type(&r.elem),
        syn::Type::Paren(p) => core_type(&p.elem),
        syn::Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }),
        syn::Type::Path(path) => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            let wrapper = matches!(
                name.as_str(),
                "Arc" | "Rc" | "Box" | "Option" | "RwLock" | "Mutex" | "Data" | "State"
            );
            if wrapper
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return core_type(inner);
            }
            Some(name)
        }
        _ => None,
    }
}

/// The call that takes a lock in a `let` initializer, under what unwraps or picks from its
/// guard: `NAG_LOCK.lock()` in `NAG_LOCK.lock().unwrap()`, `state.lock()` in
/// `&state.lock().await.adaptor`, `writer.lock_owned()` in `writer.lock_owned().await?`.
/// Which lock methods count is the caller's to say.
pub fn lock_call(init: &syn::Expr) -> Option<&syn::ExprMethodCall> {
    let mut expr = init;
    loop {
        match expr {
            syn::Expr::Reference(inner) => expr = &inner.expr,
            syn::Expr::Field(inner) => expr = &inner.base,
            syn::Expr::Await(inner) => expr = &inner.base,
            syn::Expr::Try(inner) => expr = &inner.expr,
            syn::Expr::Paren(inner) => expr = &inner.expr,
            syn::Expr::MethodCall(call)
                if matches!(call.method.to_string().as_str(), "unwrap" | "expect") =>
            {
                expr = &call.receiver;
            }
            syn::Expr::MethodCall(call) => return Some(call),
            _ => return None,
        }
    }
}

/// Whether a `let` initializer takes a mutex's guard (`lock`, tokio's `lock_owned` and
/// `blocking_lock`), or a part of what it guards: `state.lock().await`,
/// `&state.lock().await.adaptor`, `db.lock_owned().await`.
pub fn takes_mutex_guard(init: &syn::Expr) -> bool {
    lock_call(init).is_some_and(|call| {
        matches!(
            call.method.to_string().as_str(),
            "lock" | "lock_owned" | "blocking_lock"
        )
    })
}

/// Whether `attrs` mark test code: `#[cfg(test)]`, `#[test]`, `#[tokio::test]`,
/// `#[sqlx::test]`.
pub fn is_test_code(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        path.segments
            .last()
            .is_some_and(|last| last.ident == "test")
            || (path.is_ident("cfg")
                && attr
                    .parse_args::<syn::Meta>()
                    .is_ok_and(|meta| meta.path().is_ident("test")))
    })
}

/// The database clients whose SQL strings the audit does not read as sqlx's: it covers
/// sqlx, Diesel and `SeaORM` only.
const OTHER_CLIENTS: [&str; 7] = [
    "rusqlite",
    "tokio_postgres",
    "deadpool_postgres",
    "r2d2_sqlite",
    "mysql_async",
    "postgres::Client",
    "clickhouse",
];

/// Whether a type (its path's names joined by `::`) could be a sqlx connection, pool or
/// executor: `PgPool`, `&mut PgConnection`, `Transaction<'_, Postgres>`, `impl Executor`,
/// `web::Data<Pool>` (a pool of any client).
#[must_use]
pub fn sqlx_like(ty: &str) -> bool {
    ty.split("::").any(|name| {
        ["Pg", "MySql", "Sqlite", "Any"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "sqlx",
                "Pool",
                "Transaction",
                "Executor",
                "Acquire",
                "Connection",
                "PoolConnection",
            ]
            .contains(&name)
    })
}

/// Whether a file's source names one of the [`OTHER_CLIENTS`] and not sqlx: a file of
/// rusqlite code whose `conn.execute("INSERT ..", params![..])` is not a sqlx statement.
#[must_use]
pub fn other_client(source: &str) -> bool {
    !source.contains("sqlx") && OTHER_CLIENTS.iter().any(|client| source.contains(client))
}
