//! `atomic-upsert-cli audit [PATH]`: finds the seed's race in Rust sources. A function that
//! reads a row of a table and then, on a branch that depends on what it read, inserts into
//! that table has a window between the read and the write: two callers both see "no row"
//! and both insert. The report names the read and the write, the table, the key it could
//! infer, and the `#[derive(AtomicUpsert)]` struct and call that replace both.

mod callers;
mod declared;
mod expand;
mod index;
mod ops;
mod packages;
mod report;

use std::path::{Path, PathBuf};

use syn::parse::Parser as _;
use syn::visit::Visit;

pub use ops::Api;
use ops::{Collector, FnOps, Kind, Op, Outcome};
pub use report::{Format, coverage, render};

/// The comment that marks a finding as reviewed and safe, on the read's or the write's line
/// (or the line above either).
pub const ALLOW: &str = "atomic-upsert: allow";

/// One read-then-insert race.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// The file, as given or found under the audited path.
    pub file: PathBuf,
    /// The function holding both.
    pub function: String,
    /// The table, as the code names it.
    pub table: String,
    /// The read's key columns, when the `WHERE` (or `filter`) shows them.
    pub keys: Vec<String>,
    /// The read (or the `UPDATE` whose "no row" decides the insert), 1-based.
    pub read_line: usize,
    /// The insert, 1-based.
    pub write_line: usize,
    /// The library the code uses.
    pub api: Api,
    /// The columns the insert writes, when its SQL lists them.
    pub columns: Vec<String>,
    /// The replacement: a derive and its call.
    pub suggestion: String,
    /// What the code does when the row exists, which decides the fix.
    pub intent: Intent,
    /// The function of the audited code the read goes through, when not written here.
    pub read_via: Option<String>,
    /// The function of the audited code the insert goes through, when not written here.
    pub write_via: Option<String>,
}

/// What the code means to do when the row is already there, read from the branch that
/// does not insert: the fix that keeps that meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// It updates the row: `upsert`.
    Update,
    /// It returns an error ("already exists"): `insert_or_ignore`, and the error on
    /// `Skipped`. An upsert here would overwrite the existing row (a second sign-up would
    /// replace an account's password).
    Reject,
    /// It leaves the row alone: `insert_or_ignore`.
    Ignore,
    /// It returns or uses the row it found: `insert_or_get`.
    Get,
}

/// What an audit found, the files it could not read or parse (each with why), and what it
/// could see.
#[derive(Debug, Default)]
pub struct Audit {
    pub findings: Vec<Finding>,
    pub skipped: Vec<String>,
    pub coverage: Coverage,
}

/// What the audit recognised, so that a clean result can be told from a blind one.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Coverage {
    /// Rust files parsed and audited.
    pub files: usize,
    /// Files left out as tests (`--include-tests` to audit them).
    pub test_files: usize,
    /// Files left out because the compiler never builds them: in a package, yet no `mod`
    /// declares them and they are none of its targets (an old copy kept beside the code).
    pub undeclared_files: usize,
    /// Functions with at least one read, insert or update recognised.
    pub functions: usize,
    /// Reads recognised, per library: sqlx, Diesel, `SeaORM`.
    pub reads: [usize; 3],
    /// Inserts recognised, per library.
    pub inserts: [usize; 3],
    /// Read-then-insert sites held back because the function protects them (a lock, a
    /// serializable transaction, a handled unique violation).
    pub safe_by_context: usize,
}

/// What to audit.
#[derive(Debug, Default)]
pub struct Options {
    /// Paths (relative to the audited directory) to leave out.
    pub exclude: Option<globset::GlobSet>,
    /// Audit test code too: files under `tests/`, `#[cfg(test)]` modules, `#[test]`s.
    pub include_tests: bool,
}

/// Audits every `.rs` file under `path` (a file or a directory; `target/`, `vendor/`,
/// hidden directories and symbolic links below `path` are skipped), with column types from
/// `snapshot` when given. A file that cannot be read or parsed is skipped and listed.
pub fn audit(
    path: &Path,
    snapshot: Option<&atomic_upsert::schema::Snapshot>,
    options: &Options,
) -> Result<Audit, String> {
    let mut files = Vec::new();
    collect_files(path, path, options, &mut files, true)?;
    files.sort();
    let mut audit = Audit::default();
    let (tests, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|file| !options.include_tests && is_test_file(path, file));
    audit.coverage.test_files = tests.len();
    let (parsed, packages) = read_files(path, files, &mut audit);
    audit.coverage.files = parsed.len();
    // First pass: the SQL constants, then which functions read or insert a table, for
    // their callers (twice, so that a helper calling a helper is known).
    // Each file's place: a command-line tool's or migrations' code runs once.
    let one_shot_files: Vec<bool> = parsed
        .iter()
        .map(|(file, _, _)| one_shot_file(path, file))
        .collect();
    let callers = callers::walk(
        parsed
            .iter()
            .zip(&one_shot_files)
            .map(|((_, _, syntax), &one_shot)| (syntax, one_shot)),
    );
    let mut index = index(parsed.iter().map(|(_, _, syntax)| syntax));
    index.write_lockers.clone_from(&callers.write_lockers);
    index.modules = parsed
        .iter()
        .map(|(file, _, _)| module_name(file))
        .collect();
    index.other_client = parsed
        .iter()
        .map(|(_, source, _)| index::other_client(source))
        .collect();
    index.bare_entities = parsed
        .iter()
        .map(|(_, _, syntax)| bare_entity(syntax))
        .collect();
    index.diesel_renames = parsed
        .iter()
        .map(|(_, _, syntax)| diesel_renames(syntax))
        .collect();
    let index = std::rc::Rc::new(index);
    let macros = std::rc::Rc::new(macros(parsed.iter().map(|(_, _, syntax)| syntax)));
    let mut helpers = std::rc::Rc::new(ops::Helpers::new());
    for _ in 0..3 {
        let known = Known {
            helpers: &helpers,
            index: &index,
            macros: &macros,
            include_tests: options.include_tests,
        };
        helpers = std::rc::Rc::new(self::helpers(
            parsed
                .iter()
                .enumerate()
                .map(|(n, (_, _, syntax))| (syntax, packages.package(n), packages.visible(n))),
            &known,
        ));
    }
    let context = Context {
        known: Known {
            helpers: &helpers,
            index: &index,
            macros: &macros,
            include_tests: options.include_tests,
        },
        snapshot,
        callers,
    };
    for (n, (file, source, syntax)) in parsed.iter().enumerate() {
        findings(
            (n, file, source, syntax),
            packages.visible(n),
            (one_shot_files[n], packages.sqlite_only(n)),
            &context,
            &mut audit,
        );
    }
    audit.findings.sort_by(|a, b| {
        (&a.file, a.read_line, a.write_line).cmp(&(&b.file, b.read_line, b.write_line))
    });
    // A `macro_rules!` body is audited once as written and again at each call of the
    // macro; its findings point at the same lines.
    audit.findings.dedup_by(|a, b| {
        a.file == b.file
            && a.read_line == b.read_line
            && a.write_line == b.write_line
            && a.table == b.table
    });
    Ok(audit)
}

/// What the last pass, the one that reports, knows.
struct Context<'a> {
    known: Known<'a>,
    snapshot: Option<&'a atomic_upsert::schema::Snapshot>,
    /// The functions that run only once, and those that run only under a process-wide
    /// lock (see [`callers`]).
    callers: callers::Found,
}

/// Whether `file` is test code by its place: under a `tests` or `benches` directory or one
/// whose name has the word `test`, `tests` or `testing` (`test-utils`, `db_test_fakes`), or
/// named `tests.rs`, `test.rs`, `testing.rs`, `fixtures.rs`, `test_*.rs` (`test_utils.rs`),
/// `*_test.rs` or `*_tests.rs`.
fn is_test_file(root: &Path, file: &Path) -> bool {
    let relative = file.strip_prefix(root).unwrap_or(file);
    // `tests`, `benches`, and a directory named as test code (`test-utils`,
    // `docs_rs_test_fakes`, `testing`).
    let in_test_dir = relative.parent().is_some_and(|dir| {
        dir.components().any(|c| {
            c.as_os_str().to_str().is_some_and(|name| {
                name == "benches"
                    || name
                        .split(['-', '_'])
                        .any(|word| matches!(word, "test" | "tests" | "testing"))
            })
        })
    });
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    in_test_dir
        || matches!(stem, "tests" | "test" | "testing" | "fixtures")
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
}

/// Whether `file` is code that runs once by its place: a command-line tool and its
/// subcommands (`cli`, `cmd`, `commands`, `*-cli`), migrations (`migrations`,
/// `*-migrations`, `data_migration`).
fn one_shot_file(root: &Path, file: &Path) -> bool {
    let relative = file.strip_prefix(root).unwrap_or(file);
    relative.parent().is_some_and(|dirs| {
        dirs.components().any(|c| {
            c.as_os_str().to_str().is_some_and(|dir| {
                [
                    "cli",
                    "cmd",
                    "commands",
                    "migrations",
                    "migration",
                    "migrate",
                ]
                .contains(&dir)
                    || [
                        "-cli",
                        "_cli",
                        "-migrations",
                        "_migrations",
                        "-migration",
                        "_migration",
                    ]
                    .iter()
                    .any(|suffix| dir.ends_with(suffix))
            })
        })
    })
}

/// Whether the variants a conversion answers a unique violation with (see
/// [`ops::violation_answers`]) are all answered with a server error: none named, no.
fn converts_into_server_error(
    variants: &[String],
    server_errors: &std::collections::HashSet<String>,
) -> bool {
    !variants.is_empty() && variants.iter().all(|v| server_errors.contains(v))
}

/// Builds an [`index::Index`] from every file.
#[derive(Default)]
struct Indexer {
    index: index::Index,
    consts: Vec<(String, String)>,
    /// The methods each trait of the crate defines a body for, by trait.
    trait_defaults: std::collections::HashMap<String, Vec<String>>,
    /// Each `impl From<..> for T`: `T` and its `from`'s body, judged once the crate's
    /// handlers are known.
    conversions: Vec<(String, syn::Block)>,
    /// The enum variants a `match` arm answers with a server error (`Error::Conflict |
    /// Error::Io(_) => StatusCode::INTERNAL_SERVER_ERROR`), by name.
    server_errors: std::collections::HashSet<String>,
    /// Each `type Alias<..> = Result<.., E>`: the alias and the names in its type.
    result_aliases: Vec<(String, Vec<String>)>,
    /// The types accessors (methods taking `self` alone) return, by name.
    returns: std::collections::HashMap<String, std::collections::HashSet<String>>,
    /// The types functions without arguments return, by `Type::name` (or `name`).
    makers: std::collections::HashMap<String, std::collections::HashSet<String>>,
    /// The type of the `impl` block being read, if any.
    impl_type: Option<String>,
    /// The crate's own derive macros that generate an insert, by name, with the names of
    /// the methods they generate that insert.
    inserting_derives: std::collections::HashMap<String, Vec<String>>,
    /// Each struct, its derives and its table (`#[table(..)]`, `#[diesel(table_name)]`).
    derives: Vec<(String, Vec<String>, Option<String>)>,
    /// The functions answering a `bool` that is not a read's "nothing", by name: a name
    /// one of them shares is no [`index::Index::absence_tests`].
    other_tests: std::collections::HashSet<String>,
    /// The names two query makers (of either kind) share for different tables.
    select_clashes: std::collections::HashSet<String>,
    /// The names two model builders share for different tables.
    builder_clashes: std::collections::HashSet<String>,
    /// The index of the file being read, in the audit's list.
    file: usize,
}
impl Indexer {
    /// A function's name as the index keys it: `Type::name` in an `impl` block, else
    /// `name`.
    fn typed_name(&self, ident: &syn::Ident) -> String {
        match &self.impl_type {
            Some(ty) => format!("{ty}::{ident}"),
            None => ident.to_string(),
        }
    }

    /// Leaves out the names that mean two things: a test of absence whose name another
    /// `bool` function shares, and a query maker's or a model builder's name that two of
    /// them share for different tables.
    fn drop_clashes(&mut self) {
        for name in &self.builder_clashes {
            self.index.model_builders.remove(name);
        }
        for name in &self.other_tests {
            self.index.absence_tests.remove(name);
        }
        for name in &self.select_clashes {
            self.index.select_makers.remove(name);
            self.index.query_makers.remove(name);
        }
    }

    /// Notes the type an accessor returns (a method taking `self` alone, in an `impl`
    /// block or a trait): `fn user_email(&mut self) -> Box<dyn UserEmailRepository + '_>`.
    fn method_returns(&mut self, sig: &syn::Signature) {
        let ty = || match &sig.output {
            syn::ReturnType::Type(_, ty) => index::core_type(ty).unwrap_or_default(),
            syn::ReturnType::Default => String::new(),
        };
        // (Not `async`: a query is no accessor.)
        if sig.asyncness.is_some() {
            return;
        }
        // A maker: no `self` (`fn repo() -> DieselEpisodeRepository`, `fn create(user_id:
        // Uuid, ..) -> NewEventUser`), by its type's name and its own.
        if sig.receiver().is_none() {
            let name = self.typed_name(&sig.ident);
            self.makers.entry(name).or_default().insert(ty());
        }
        // An accessor: `self` alone.
        if sig.receiver().is_none() || sig.inputs.len() != 1 {
            return;
        }
        self.returns
            .entry(sig.ident.to_string())
            .or_default()
            .insert(ty());
    }
    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        if let Some(table) = ops::selects(sig) {
            let name = sig.ident.to_string();
            if self
                .index
                .select_makers
                .get(&name)
                .is_some_and(|other| *other != table)
            {
                self.select_clashes.insert(name);
            } else {
                self.index.select_makers.insert(name, table);
            }
        }
        if let Some(source) = ops::makes_query(block) {
            let name = self.typed_name(&sig.ident);
            if self
                .index
                .query_makers
                .get(&name)
                .is_some_and(|other| other.table != source.table)
            {
                self.select_clashes.insert(name);
            } else {
                self.index.query_makers.insert(name, source);
            }
        }
        if let Some(table) = ops::builds_model(sig) {
            let name = self.typed_name(&sig.ident);
            let built = (table, self.file);
            match self.index.model_builders.get(&name) {
                Some(other) if *other != built => {
                    self.builder_clashes.insert(name);
                }
                _ => {
                    self.index.model_builders.insert(name, built);
                }
            }
        }
        if let Some(absence) = ops::tests_absence(sig, block) {
            let name = sig.ident.to_string();
            if absence {
                self.index.absence_tests.insert(name);
            } else {
                self.other_tests.insert(name);
            }
        }
        // (A method by its type: `SynapseReader::new` locks tables, `Config::new` does
        // not.)
        let protection = ops::protects_callers(block);
        if protection.locks_rows {
            let name = self.typed_name(&sig.ident);
            self.index.row_lockers.insert(name);
        }
        match protection.safe_by {
            // (A `From::from` is judged as a conversion, by its type: by its bare name it
            // would be every `map_err(Other::from)` of the crate.)
            Some(ops::SafeBy::HandledUniqueViolation) if sig.ident != "from" => {
                self.index.handlers.insert(sig.ident.to_string());
                if ops::maps_violation_to_error(block) {
                    self.index.error_mappers.insert(sig.ident.to_string());
                }
            }
            Some(ops::SafeBy::Lock) => {
                let name = self.typed_name(&sig.ident);
                self.index.lockers.insert(name);
            }
            _ => {}
        }
    }
}
impl<'ast> Visit<'ast> for Indexer {
    fn visit_arm(&mut self, node: &'ast syn::Arm) {
        if ops::answers_server_error(&node.body) {
            self.server_errors.extend(ops::variant_names(&node.pat));
        }
        syn::visit::visit_arm(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        // `SqlitePoolOptions::new().max_connections(1)`: a pool of one SQLite connection,
        // whose transactions run one at a time.
        if node.method == "max_connections"
            && matches!(node.args.first(), Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n), ..
            })) if n.base10_digits() == "1")
            && ops::chain_root_is(node, "SqlitePoolOptions")
        {
            self.index.single_writer = true;
        }
        syn::visit::visit_expr_method_call(self, node);
    }
    fn visit_item_const(&mut self, node: &'ast syn::ItemConst) {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &*node.expr
        {
            let sql = text.value();
            if ops::sql_op(&sql, proc_macro2::Span::call_site()).is_some() {
                self.consts.push((node.ident.to_string(), sql));
            }
        }
    }
    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.function(&node.sig, &node.block);
        if let Some((derive, methods)) = inserting_derive(node) {
            self.inserting_derives.insert(derive, methods);
        }
        syn::visit::visit_item_fn(self, node);
    }
    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        self.method_returns(&node.sig);
        syn::visit::visit_trait_item_fn(self, node);
    }
    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.function(&node.sig, &node.block);
        self.method_returns(&node.sig);
        syn::visit::visit_impl_item_fn(self, node);
    }
    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        let aliases = &mut self.index.aliases;
        use_leaves(&node.tree, None, &mut |parent, leaf| match leaf {
            // `use schema::user::Model as DbUser;`: `DbUser` is `user`'s model.
            syn::UseTree::Rename(rename) if index::is_model(&rename.ident.to_string()) => {
                if let Some(table) = parent {
                    aliases.insert(rename.rename.to_string(), table.to_owned());
                }
            }
            // `use schema::transaction_logs::dsl::{transaction_logs as dsl_logs};`: the
            // Diesel table under another name.
            syn::UseTree::Rename(rename) if parent == Some("dsl") => {
                aliases.insert(rename.rename.to_string(), rename.ident.to_string());
            }
            _ => {}
        });
    }
    fn visit_item_type(&mut self, node: &'ast syn::ItemType) {
        // `type ApiResult<T> = Result<T, ApiError>;`
        self.result_aliases
            .push((node.ident.to_string(), type_names(&node.ty)));
        // `type DbUser = user::Model;`
        if let syn::Type::Path(path) = &*node.ty
            && let [.., table, model] = path.path.segments.iter().collect::<Vec<_>>().as_slice()
            && index::is_model(&model.ident.to_string())
        {
            self.index
                .aliases
                .insert(node.ident.to_string(), table.ident.to_string());
        }
    }
    fn visit_item_struct(&mut self, node: &'ast syn::ItemStruct) {
        let table = diesel_table_name(&node.attrs);
        if let Some(table) = &table {
            self.index
                .diesel_tables
                .insert(node.ident.to_string(), table.clone());
        }
        self.derives
            .push((node.ident.to_string(), derives(&node.attrs), table));
        let generic = |ty: &str| node.generics.type_params().any(|p| p.ident == ty);
        for field in &node.fields {
            // `writer: Arc<Mutex<SqliteConnection>>`: one connection of sqlx or Diesel
            // (not a pool, nor another store's `Connection`) that writers take turns on.
            let names = type_names(&field.ty);
            if names.iter().any(|n| n == "Mutex")
                && names.iter().any(|n| {
                    matches!(
                        n.as_str(),
                        "SqliteConnection"
                            | "PgConnection"
                            | "MySqlConnection"
                            | "MysqlConnection"
                            | "AnyConnection"
                    )
                })
            {
                self.index.single_writer = true;
            }
            if let syn::Type::Path(ty) = &field.ty
                && ty
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "SqliteConnection")
            {
                self.index.connection_owners.insert(node.ident.to_string());
            }
            // (A type parameter's field holds its bound's type: `organization_repository:
            // Arc<OR>` with `OR: OrganizationRepository`.)
            if let (Some(name), Some(ty)) = (&field.ident, index::core_type(&field.ty))
                && let Some(ty) = if generic(&ty) {
                    bound_trait(&node.generics, &ty)
                } else {
                    Some(ty)
                }
            {
                self.index
                    .fields
                    .insert((node.ident.to_string(), name.to_string()), ty);
            }
        }
    }
    fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
        let defaults = node.items.iter().filter_map(|item| match item {
            syn::TraitItem::Fn(function) if function.default.is_some() => {
                Some(function.sig.ident.to_string())
            }
            _ => None,
        });
        self.trait_defaults
            .entry(node.ident.to_string())
            .or_default()
            .extend(defaults);
        syn::visit::visit_item_trait(self, node);
    }
    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if let syn::Type::Path(ty) = &*node.self_ty
            && let Some(ty) = ty.path.segments.last()
        {
            let methods = self.index.methods.entry(ty.ident.to_string()).or_default();
            for item in &node.items {
                match item {
                    syn::ImplItem::Fn(function) => {
                        methods.insert(function.sig.ident.to_string());
                    }
                    // `insert!(follows, NewFollow);`: methods a macro makes.
                    syn::ImplItem::Macro(_) => {
                        methods.insert(index::MACRO_METHODS.to_owned());
                    }
                    _ => {}
                }
            }
        }
        // `impl From<DbErr> for ApiError { fn from(e) { .. } }`: `?` runs it.
        if let Some((_, trait_path, _)) = &node.trait_
            && trait_path
                .segments
                .last()
                .is_some_and(|s| s.ident == "From")
            && let syn::Type::Path(ty) = &*node.self_ty
            && let Some(ty) = ty.path.segments.last()
        {
            for item in &node.items {
                if let syn::ImplItem::Fn(function) = item
                    && function.sig.ident == "from"
                {
                    self.conversions
                        .push((ty.ident.to_string(), function.block.clone()));
                }
            }
        }
        if let Some((_, trait_path, _)) = &node.trait_
            && let Some(trait_name) = trait_path.segments.last()
            && let syn::Type::Path(ty) = &*node.self_ty
            && let Some(ty) = ty.path.segments.last()
        {
            let implementors = self
                .index
                .implementors
                .entry(trait_name.ident.to_string())
                .or_default();
            let ty = ty.ident.to_string();
            if !implementors.contains(&ty) {
                implementors.push(ty);
            }
        }
        let outer = self.impl_type.take();
        if let syn::Type::Path(ty) = &*node.self_ty {
            self.impl_type = ty.path.segments.last().map(|s| s.ident.to_string());
        }
        syn::visit::visit_item_impl(self, node);
        self.impl_type = outer;
    }
}

/// What the audit knows of the whole crate before it reads any function (see
/// [`index::Index`]), from all `files`.
fn index<'a>(files: impl Iterator<Item = &'a syn::File>) -> index::Index {
    let mut found = Indexer::default();
    for (n, file) in files.enumerate() {
        found.file = n;
        found.visit_file(file);
    }
    found.drop_clashes();
    // A constant's name bound twice to different SQL is left out.
    let consts = &mut found.index.consts;
    let mut clashes = Vec::new();
    for (name, sql) in found.consts {
        match consts.get(&name) {
            Some(other) if *other != sql => clashes.push(name),
            _ => {
                consts.insert(name, sql);
            }
        }
    }
    for name in clashes {
        consts.remove(&name);
    }
    // The error types whose `From` conversion handles a unique violation, itself or
    // through a handler it calls, and the `Result` aliases that name one.
    let handlers = std::rc::Rc::new(index::Index {
        handlers: found.index.handlers.clone(),
        ..index::Index::default()
    });
    let mut converters: std::collections::HashSet<String> = found
        .conversions
        .iter()
        .filter(|(_, from)| {
            ops::safe_by_knowing(from, std::rc::Rc::clone(&handlers))
                == Some(ops::SafeBy::HandledUniqueViolation)
                // (Into a variant the crate answers with a 500: the loser fails as before.)
                && !converts_into_server_error(&ops::violation_answers(from), &found.server_errors)
        })
        .map(|(ty, _)| ty.clone())
        .collect();
    let aliases: Vec<String> = found
        .result_aliases
        .iter()
        .filter(|(_, names)| names.iter().any(|n| converters.contains(n)))
        .map(|(alias, _)| alias.clone())
        .collect();
    converters.extend(aliases);
    found.index.converters = converters;
    // The structs an inserting derive of the crate's own generates methods for.
    for (name, derives, table) in std::mem::take(&mut found.derives) {
        let methods: Vec<String> = derives
            .iter()
            .filter_map(|d| found.inserting_derives.get(d))
            .flatten()
            .cloned()
            .collect();
        if !methods.is_empty() {
            let table = table.unwrap_or_else(|| name.to_ascii_lowercase());
            found
                .index
                .methods
                .entry(name.clone())
                .or_default()
                .extend(methods.iter().cloned());
            found.index.derived_inserts.insert(name, (table, methods));
        }
    }
    // The trait methods each implementor runs the trait's own body of.
    for (name, defaults) in &found.trait_defaults {
        for ty in found.index.implementors.get(name).into_iter().flatten() {
            let own = found.index.methods.get(ty);
            let inherited: Vec<String> = defaults
                .iter()
                .filter(|m| own.is_none_or(|own| !own.contains(*m)))
                .cloned()
                .collect();
            if !inherited.is_empty() {
                found
                    .index
                    .inherited
                    .entry(ty.clone())
                    .or_default()
                    .push((name.clone(), inherited));
            }
        }
    }
    // The type an accessor returns, where every definition returns the one type, and
    // that a type of the crate.
    let index = &mut found.index;
    let ours = |index: &index::Index,
                (name, types): (String, std::collections::HashSet<String>)| {
        let [ty]: [String; 1] = types.into_iter().collect::<Vec<_>>().try_into().ok()?;
        (ty != "Self" && (index.implementors.contains_key(&ty) || index.methods.contains_key(&ty)))
            .then_some((name, ty))
    };
    index.returns = found
        .returns
        .into_iter()
        .filter_map(|entry| ours(index, entry))
        .collect();
    index.makers = found
        .makers
        .into_iter()
        .filter_map(|entry| ours(index, entry))
        .collect();
    found.index
}

/// The first trait a type parameter is bound by, in its declaration or the `where`
/// clause (`OR: OrganizationRepository`), other than marker and standard traits.
fn bound_trait(generics: &syn::Generics, param: &str) -> Option<String> {
    let ours = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().find_map(|bound| match bound {
            syn::TypeParamBound::Trait(t) => t
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .filter(|name| {
                    !matches!(
                        name.as_str(),
                        "Send" | "Sync" | "Clone" | "Debug" | "Sized" | "Default" | "Copy"
                    )
                }),
            _ => None,
        })
    };
    let declared = generics
        .type_params()
        .find(|p| p.ident == param)
        .and_then(|p| ours(&p.bounds));
    declared.or_else(|| {
        generics
            .where_clause
            .as_ref()?
            .predicates
            .iter()
            .find_map(|predicate| match predicate {
                syn::WherePredicate::Type(typed)
                    if index::core_type(&typed.bounded_ty).as_deref() == Some(param) =>
                {
                    ours(&typed.bounds)
                }
                _ => None,
            })
    })
}

/// The names a struct's `#[derive(..)]` attributes list (their last segment).
fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut names = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                names.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    names
}

/// Whether SQL text inserts without an `ON CONFLICT` (a derive that upserts races
/// nothing).
fn plain_insert(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.contains("INSERT INTO") && !upper.contains("ON CONFLICT")
}

/// A derive macro of the crate's own (`#[proc_macro_derive(Model, ..)]`) whose source
/// builds an `INSERT INTO` statement without `ON CONFLICT`: its name, and the methods it generates that insert
/// (those of its generated `fn`s named `save`, `insert`, `create` or `add`).
fn inserting_derive(node: &syn::ItemFn) -> Option<(String, Vec<String>)> {
    // The string literals of the function's code, and the macro calls' tokens.
    struct Source(bool, Vec<String>);
    impl<'ast> Visit<'ast> for Source {
        fn visit_lit_str(&mut self, node: &'ast syn::LitStr) {
            self.0 |= plain_insert(&node.value());
        }
        fn visit_macro(&mut self, node: &'ast syn::Macro) {
            scan(node.tokens.clone(), &mut self.0, &mut self.1);
        }
    }
    // Every string literal and every `fn name` in a macro call's tokens (`quote!`).
    fn scan(tokens: proc_macro2::TokenStream, inserts: &mut bool, methods: &mut Vec<String>) {
        let mut after_fn = false;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Literal(lit) => {
                    *inserts |= plain_insert(&lit.to_string());
                }
                proc_macro2::TokenTree::Ident(id) => {
                    let name = id.to_string();
                    if after_fn
                        && matches!(name.as_str(), "save" | "insert" | "create" | "add")
                        && !methods.contains(&name)
                    {
                        methods.push(name.clone());
                    }
                    after_fn = name == "fn";
                    continue;
                }
                proc_macro2::TokenTree::Group(group) => scan(group.stream(), inserts, methods),
                proc_macro2::TokenTree::Punct(_) => {}
            }
            after_fn = false;
        }
    }
    let derive = node.attrs.iter().find_map(|attr| {
        if !attr.path().is_ident("proc_macro_derive") {
            return None;
        }
        let mut name = None;
        let _ = attr.parse_nested_meta(|meta| {
            if name.is_none() {
                name = meta.path.get_ident().map(ToString::to_string);
            }
            // (`attributes(table, model)` after the name.)
            if meta.input.peek(syn::token::Paren) {
                let _ = meta.input.parse::<proc_macro2::Group>();
            }
            Ok(())
        });
        name
    })?;
    let mut source = Source(false, Vec::new());
    source.visit_block(&node.block);
    let Source(inserts, methods) = source;
    (inserts && !methods.is_empty()).then_some((derive, methods))
}

/// The table a struct's attributes name: Diesel's `#[diesel(table_name = schema::users,
/// ..)]` (also under `cfg_attr`), Diesel 1's `#[table_name = "users"]`, or a query
/// builder's `#[table(name = "projects")]`.
fn diesel_table_name(attrs: &[syn::Attribute]) -> Option<String> {
    // The last name after `key =` anywhere in the tokens: `schema_pg::users`, `"users"`.
    fn after(key: &str, tokens: proc_macro2::TokenStream) -> Option<String> {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                proc_macro2::TokenTree::Ident(id) if id == key => {
                    let mut last = None;
                    for next in tokens.iter().skip(i + 2) {
                        match next {
                            proc_macro2::TokenTree::Ident(id) => last = Some(id.to_string()),
                            proc_macro2::TokenTree::Literal(lit) => {
                                last = Some(lit.to_string().trim_matches('"').to_owned());
                            }
                            proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => {}
                            _ => break,
                        }
                    }
                    return last;
                }
                proc_macro2::TokenTree::Group(group) => {
                    if let Some(found) = after(key, group.stream()) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::List(list) if attr.path().is_ident("table") => {
            after("name", list.tokens.clone()).or_else(|| {
                // `#[table(authorization_code)]`
                let tokens: Vec<proc_macro2::TokenTree> = list.tokens.clone().into_iter().collect();
                match tokens.as_slice() {
                    [proc_macro2::TokenTree::Ident(table)] => Some(table.to_string()),
                    _ => None,
                }
            })
        }
        syn::Meta::List(list)
            if attr.path().is_ident("diesel") || attr.path().is_ident("cfg_attr") =>
        {
            after("table_name", list.tokens.clone())
        }
        syn::Meta::NameValue(pair) if attr.path().is_ident("table_name") => match &pair.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            }) => Some(name.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Whether a function binds a mutex's guard in its body (`let mut lock =
/// conn.writer().lock_owned().await;`) and uses it as a connection: `&mut lock`, `&mut
/// *lock`, `lock.begin()`.
fn holds_connection_guard(block: &syn::Block) -> bool {
    struct Used<'a>(&'a [String], bool);
    impl<'ast> Visit<'ast> for Used<'_> {
        fn visit_expr_reference(&mut self, node: &'ast syn::ExprReference) {
            let mut inner = &*node.expr;
            if let syn::Expr::Unary(deref) = inner
                && matches!(deref.op, syn::UnOp::Deref(_))
            {
                inner = &deref.expr;
            }
            self.1 |= node.mutability.is_some() && names(inner, self.0);
            syn::visit::visit_expr_reference(self, node);
        }
        fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
            self.1 |= matches!(node.method.to_string().as_str(), "begin" | "transaction")
                && names(&node.receiver, self.0);
            syn::visit::visit_expr_method_call(self, node);
        }
    }
    fn names(expr: &syn::Expr, guards: &[String]) -> bool {
        matches!(expr, syn::Expr::Path(path)
            if path.path.get_ident().is_some_and(|id| guards.contains(&id.to_string())))
    }
    let guards: Vec<String> = block
        .stmts
        .iter()
        .filter_map(|stmt| {
            let syn::Stmt::Local(local) = stmt else {
                return None;
            };
            let syn::Pat::Ident(binding) = &local.pat else {
                return None;
            };
            let init = &*local.init.as_ref()?.expr;
            index::takes_mutex_guard(init).then(|| binding.ident.to_string())
        })
        .collect();
    if guards.is_empty() {
        return false;
    }
    let mut used = Used(&guards, false);
    used.visit_block(block);
    used.1
}

/// Every type name a type mentions (`Result<Json<T>, ApiError>`: `Result`, `Json`, `T`,
/// `ApiError`).
fn type_names(ty: &syn::Type) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_path_segment(&mut self, node: &'ast syn::PathSegment) {
            self.0.push(node.ident.to_string());
            syn::visit::visit_path_segment(self, node);
        }
    }
    let mut names = Names(Vec::new());
    names.visit_type(ty);
    names.0
}

/// Each leaf of a `use` tree (a name, a rename or a glob) with the path segment just
/// before it: `Entity` after `user` in `use entity::user::{Entity, Model as User};`.
fn use_leaves<'a>(
    tree: &'a syn::UseTree,
    parent: Option<&str>,
    visit: &mut impl FnMut(Option<&str>, &'a syn::UseTree),
) {
    match tree {
        syn::UseTree::Path(path) => use_leaves(&path.tree, Some(&path.ident.to_string()), visit),
        syn::UseTree::Group(group) => {
            for item in &group.items {
                use_leaves(item, parent, visit);
            }
        }
        leaf => visit(parent, leaf),
    }
}

/// The Diesel tables and columns a file imports under another name (`use
/// schema::invitations::dsl::{invitations as invitations_table, user_id as user_column}`),
/// by that name.
fn diesel_renames(file: &syn::File) -> std::collections::HashMap<String, String> {
    let mut renames = std::collections::HashMap::new();
    for item in &file.items {
        if let syn::Item::Use(use_item) = item {
            use_leaves(&use_item.tree, None, &mut |parent, leaf| {
                if let syn::UseTree::Rename(rename) = leaf
                    && matches!(parent, Some("dsl" | "schema"))
                {
                    renames.insert(rename.rename.to_string(), rename.ident.to_string());
                }
            });
        }
    }
    renames
}

/// The table whose `SeaORM` entity a file imports by its bare names (`use
/// entity::smtp_configs::{ActiveModel, Entity as SmtpConfigEntity};`), when it imports
/// one table's alone.
fn bare_entity(file: &syn::File) -> Option<String> {
    let mut found = Vec::new();
    for item in &file.items {
        if let syn::Item::Use(use_item) = item {
            // (A renamed one, `use super::posts::Entity as Posts;`, is the index's alias
            // and says nothing of the bare names.)
            use_leaves(&use_item.tree, None, &mut |parent, leaf| {
                if let syn::UseTree::Name(name) = leaf
                    && index::is_model(&name.ident.to_string())
                    && let Some(parent) =
                        parent.filter(|p| !matches!(*p, "super" | "crate" | "self"))
                {
                    found.push(parent.to_owned());
                }
            });
        }
    }
    found.dedup();
    match found.as_slice() {
        [table] if table != "prelude" && table != "sea_orm" => Some(table.clone()),
        _ => None,
    }
}

/// The module a file holds: its stem (`device` for `user/device.rs`), or its directory's
/// name for `mod.rs`, `lib.rs` and `main.rs`.
fn module_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if matches!(stem, "mod" | "lib" | "main") {
        file.parent()
            .and_then(|dir| dir.file_name())
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned()
    } else {
        stem.to_owned()
    }
}

/// The crate's `macro_rules!` definitions, wherever they are.
fn macros<'a>(files: impl Iterator<Item = &'a syn::File>) -> expand::Macros {
    struct Found(expand::Macros);
    impl<'ast> Visit<'ast> for Found {
        fn visit_item_macro(&mut self, node: &'ast syn::ItemMacro) {
            if node.mac.path.is_ident("macro_rules")
                && let Some(name) = &node.ident
            {
                self.0.define(&name.to_string(), node.mac.tokens.clone());
            }
        }
    }
    let mut found = Found(expand::Macros::default());
    for file in files {
        found.visit_file(file);
    }
    found.0
}

/// What a pass over the crate's functions knows from the passes before.
struct Known<'a> {
    helpers: &'a std::rc::Rc<ops::Helpers>,
    index: &'a std::rc::Rc<index::Index>,
    macros: &'a std::rc::Rc<expand::Macros>,
    include_tests: bool,
}

impl Known<'_> {
    /// A visitor of one file's functions that knows this much, for a file whose package
    /// can call the `visible` packages.
    fn functions(&self, visible: Option<Visible>, file: Option<usize>) -> Functions {
        Functions {
            visible,
            file,
            helpers: std::rc::Rc::clone(self.helpers),
            index: std::rc::Rc::clone(self.index),
            macros: std::rc::Rc::clone(self.macros),
            include_tests: self.include_tests,
            ..Functions::default()
        }
    }
}

/// The helpers of all `files`: each function, by name, how it is called and the type that
/// defines it, whose definitions (test code left out) all have one and the same table
/// effect; and each under no type, for calls that do not name one.
fn helpers<'a>(
    files: impl Iterator<Item = (&'a syn::File, Option<usize>, Option<Visible>)>,
    known: &Known,
) -> ops::Helpers {
    let mut by_callee = ops::Helpers::new();
    for (n, (file, package, visible)) in files.enumerate() {
        let mut functions = known.functions(visible, Some(n));
        functions.visit_file(file);
        for (callee, found) in &functions.callees {
            // A definition that does nothing to the database (a mock, a cache's wrapper of
            // the same name) says nothing about the others.
            if let Some(mut helper) = ops::helper_of(found) {
                helper.package = package;
                // A free function's file: an unqualified call in that file names it.
                helper.file = callee.owner.is_none().then_some(n);
                if callee.owner.is_some() {
                    let anywhere = ops::Callee {
                        owner: None,
                        ..callee.clone()
                    };
                    by_callee.entry(anywhere).or_default().push(helper.clone());
                }
                by_callee.entry(callee.clone()).or_default().push(helper);
            }
        }
    }
    // The inserting methods the crate's own derives generate (`#[derive(Model)]`'s
    // `save`), on their structs.
    for (ty, (table, methods)) in &known.index.derived_inserts {
        for method in methods {
            let callee = ops::Callee {
                name: method.clone(),
                method: true,
                owner: Some(ty.clone()),
            };
            by_callee.entry(callee).or_default().push(ops::Helper {
                effects: vec![ops::Effect::derived_insert(table)],
                ..ops::Helper::default()
            });
        }
    }
    by_callee
}

/// The packages a file's package can call (see [`packages::Packages::visible`]).
type Visible = std::rc::Rc<std::collections::HashSet<usize>>;

/// The files to audit, read and parsed (one that cannot be is listed in `audit.skipped`),
/// without those no module declares (see [`declared`]; counted in `audit.coverage`), and
/// their packages.
fn read_files(
    path: &Path,
    files: Vec<PathBuf>,
    audit: &mut Audit,
) -> (Vec<(PathBuf, String, syn::File)>, packages::Packages) {
    let mut parsed = Vec::new();
    for file in files {
        let result = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: {e}", file.display()))
            .and_then(|source| parse(&file, &source).map(|syntax| (source, syntax)));
        match result {
            Ok((source, syntax)) => parsed.push((file, source, syntax)),
            Err(why) => audit.skipped.push(why),
        }
    }
    let paths = |parsed: &[(PathBuf, String, syn::File)]| {
        parsed
            .iter()
            .map(|(file, _, _)| file.clone())
            .collect::<Vec<_>>()
    };
    let packages = packages::Packages::of(path, &paths(&parsed));
    // (The path given, when it is a file, is audited whatever declares it.)
    if !path.is_dir() {
        return (parsed, packages);
    }
    let given: Vec<(&Path, &syn::File)> = parsed
        .iter()
        .map(|(file, _, syntax)| (file.as_path(), syntax))
        .collect();
    let mut left_out = declared::undeclared(&given, &packages).into_iter();
    let before = parsed.len();
    parsed.retain(|_| !left_out.next().unwrap_or(false));
    audit.coverage.undeclared_files = before - parsed.len();
    if audit.coverage.undeclared_files == 0 {
        return (parsed, packages);
    }
    let packages = packages::Packages::of(path, &paths(&parsed));
    (parsed, packages)
}

fn parse(file: &Path, source: &str) -> Result<syn::File, String> {
    syn::parse_file(source).map_err(|e| {
        let at = e.span().start();
        format!(
            "{}:{}:{}: cannot parse: {e}",
            file.display(),
            at.line,
            at.column + 1
        )
    })
}

fn collect_files(
    root: &Path,
    path: &Path,
    options: &Options,
    out: &mut Vec<PathBuf>,
    top: bool,
) -> Result<(), String> {
    if !top
        && let Some(exclude) = &options.exclude
        && exclude.is_match(path.strip_prefix(root).unwrap_or(path))
    {
        return Ok(());
    }
    // The path given is followed; links found below it are not (no loops).
    let meta = if top {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_owned());
        } else if top {
            return Err(format!("{}: not a Rust source file", path.display()));
        }
        return Ok(());
    }
    if !meta.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "vendor" {
            continue;
        }
        collect_files(root, &entry.path(), options, out, false)?;
    }
    Ok(())
}

fn findings(
    (n, file, source, syntax): (usize, &Path, &str, &syn::File),
    visible: Option<Visible>,
    (one_shot_file, sqlite_package): (bool, bool),
    context: &Context,
    audit: &mut Audit,
) {
    let mut functions = context.known.functions(visible, Some(n));
    functions.visit_file(syntax);
    let lines: Vec<&str> = source.lines().collect();
    // Code for SQLite alone (the file names no other backend, or its package builds its
    // database library for SQLite alone): SQLite runs one writing statement at a time,
    // the reads inside it included, so an `INSERT .. WHERE NOT EXISTS` is atomic there.
    let sqlite_only = sqlite_package
        || source.contains("Sqlite")
            && !["Pg", "Postgres", "MySql", "Mysql"]
                .iter()
                .any(|other| source.contains(other));
    for (name, mut found) in functions.found {
        // (Either protects whatever the intent: it replaces a conversion's protection.)
        let by_callers = if one_shot_file || context.callers.one_shot.contains(&name) {
            Some(ops::SafeBy::OneShot)
        } else if context.callers.locked.contains(&name) {
            Some(ops::SafeBy::Lock)
        } else {
            None
        };
        if by_callers.is_some() {
            if found.by_conversion {
                found.safe_by = None;
                found.by_conversion = false;
            }
            found.safe_by = found.safe_by.or(by_callers);
        }
        let coverage = &mut audit.coverage;
        coverage.functions += 1;
        for op in found.ops.iter().filter(|op| op.via.is_none()) {
            let api = op.api as usize;
            match op.kind {
                Kind::Read => coverage.reads[api] += 1,
                Kind::Insert => coverage.inserts[api] += 1,
                Kind::Update | Kind::Delete => {}
            }
        }
        for (read, write, intent) in races(&found) {
            if allowed(&lines, read.line)
                || allowed(&lines, write.line)
                || (write.checks_absent && sqlite_only)
            {
                continue;
            }
            // (A conversion into "already exists" answers a check that rejects as the check
            // does; where the code returns or updates the row it found, the loser still
            // fails: `by_name_or_create` answering 409. And an insert that maps its error
            // on the spot, `.map_err(|_| Failed)?`, never reaches the conversion.)
            let unconverted = found.by_conversion
                && (!answers_with_error(&found, read, write)
                    || found.mapped.contains(&write.order));
            // Both through the guard of a mutex the function holds (`let adaptor =
            // &state.lock().await.adaptor; adaptor.get_event(..); adaptor.create_event(..)`).
            let guarded = (found.locked_ops.contains(&read.order)
                && found.locked_ops.contains(&write.order))
                // A row locked before the check (`SELECT .. FOR UPDATE` of the parent).
                || found.row_locks.iter().any(|&at| at < read.order)
                || found
                    .ops
                    .iter()
                    .any(|op| op.kind == Kind::Read && op.guarded && op.order < read.order);
            // (A lock the function takes after the read does not cover the check.)
            let locked_late = found.safe_by == Some(ops::SafeBy::Lock)
                && found.lock_at.is_some_and(|at| at >= read.order);
            if (found.safe_by.is_some() && !unconverted && !locked_late) || guarded {
                audit.coverage.safe_by_context += 1;
                continue;
            }
            audit.findings.push(Finding {
                file: file.to_owned(),
                function: name.clone(),
                table: write.table.clone(),
                keys: read.keys.clone(),
                read_line: read.line,
                write_line: write.line,
                api: write.api,
                columns: write.columns.clone(),
                suggestion: report::suggestion(&report::Site {
                    table: &write.table,
                    keys: &read.keys,
                    columns: &write.columns,
                    api: write.api,
                    intent,
                    snapshot: context.snapshot,
                }),
                intent,
                read_via: read.via.clone(),
                write_via: write.via.clone(),
            });
        }
    }
}

/// Whether line `line` (1-based) or the one above carries [`ALLOW`].
fn allowed(lines: &[&str], line: usize) -> bool {
    [line, line.saturating_sub(1)]
        .iter()
        .filter(|&&l| l > 0)
        .any(|&l| lines.get(l - 1).is_some_and(|text| text.contains(ALLOW)))
}

/// The race rule, within one function: a read of table `t` (not one serialized by SQLite's
/// write lock; a `FOR UPDATE` read of the row locks nothing when it is missing), then a
/// later insert into `t` (without `ON CONFLICT`) that sits on a branch, or follows a
/// branch that returned early. An `UPDATE` of `t` followed that way by an insert is the
/// update-else-insert variant. An insert that checks for its row in its own statement
/// (`WHERE NOT EXISTS`) is its own read. One finding per insert.
fn races(found: &FnOps) -> Vec<(&Op, &Op, Intent)> {
    let mut pairs = Vec::new();
    for write in found.ops.iter().filter(|o| o.kind == Kind::Insert) {
        // `INSERT .. SELECT .. WHERE NOT EXISTS (..)`: its own check, in the same statement.
        if write.checks_absent && !write.guarded {
            pairs.push((write, write, Intent::Ignore));
            continue;
        }
        let before = |kind: Kind| {
            found
                .ops
                .iter()
                .filter(|r| {
                    // (A read on another arm than the insert's never runs before it.)
                    r.kind == kind
                        // (A row lock of the row looked for locks nothing when it is
                        // missing: its "no row" arm still races.)
                        && (!r.guarded || r.row_lock)
                        && r.order < write.order
                        && !found.exclusive(&r.path, &write.path)
                        // (A count compared with a limit is a quota, not a check.)
                        && !found.quotas.contains(&r.order)
                        && r.table.eq_ignore_ascii_case(&write.table)
                        && write.table != ops::GENERIC_TABLE
                })
                .filter(|r| ops::read_decides(found, r, write))
                .max_by_key(|r| r.order)
        };
        // The nearest read that decided (a later read of the table, such as the parent row
        // a repost needs, may decide nothing), else an UPDATE whose "no row" did.
        // (An updater helper's call only tells the intent: what a helper's update returns
        // is not seen.)
        // (An update's `Err(_)` arm is its failure: it touched no row only in `Ok(0)`.)
        let read = before(Kind::Read).or_else(|| {
            before(Kind::Update).filter(|update| {
                update.via.is_none()
                    && !write
                        .path
                        .iter()
                        .skip(update.path.len())
                        .any(|arm| found.err_arms.contains(arm))
            })
        });
        let Some(read) = read else {
            continue;
        };
        // An insert with its own `ON CONFLICT` is safe, unless its target is other columns
        // than the read's key (an upsert by a fresh `uuid` after a read by `email`).
        let off_target = !write.conflict.is_empty()
            && !read.joined
            && !read.keys.is_empty()
            && !read.keys.iter().all(|k| write.conflict.contains(k));
        if write.guarded && !off_target {
            continue;
        }
        pairs.push((read, write, intent(found, read, write)));
    }
    pairs
}

/// What the code does when the read finds the row: on the branches after the read that do
/// not lead to the insert, an update of the table, a value handed back (the row used, even
/// where another branch errs: `if rows.len() == 1 { rows.first() } else { return Err }`), an
/// error, or nothing.
fn intent(found: &FnOps, read: &Op, write: &Op) -> Intent {
    match found_side(found, read, write) {
        None => Intent::Update,
        Some(outcomes) if outcomes.contains(&Outcome::Value) => Intent::Get,
        Some(outcomes) if outcomes.contains(&Outcome::Error) => Intent::Reject,
        Some(_) => Intent::Ignore,
    }
}

/// Whether the code answers a found row with an error on some branch (and updates it on
/// none): an error conversion of the insert's unique violation gives the loser an answer
/// the check also gives.
fn answers_with_error(found: &FnOps, read: &Op, write: &Op) -> bool {
    found_side(found, read, write).is_some_and(|outcomes| outcomes.contains(&Outcome::Error))
}

/// The outcomes of the branches taken when the read finds the row (see [`intent`]), or
/// `None` when one of them updates the table.
fn found_side(found: &FnOps, read: &Op, write: &Op) -> Option<Vec<Outcome>> {
    if read.kind == Kind::Update {
        return None;
    }
    let below = |path: &[usize]| path.len() > read.path.len() && path.starts_with(&read.path);
    let apart = |path: &[usize]| !write.path.starts_with(path) && !path.starts_with(&write.path);
    let updates = found.ops.iter().any(|op| {
        op.kind == Kind::Update
            && op.order > read.order
            && (op.table.eq_ignore_ascii_case(&write.table) || op.table == ops::ANY_TABLE)
            && apart(&op.path)
    });
    if updates {
        return None;
    }
    // (An exit on the insert's own arm, `None => { limits.check()?; insert }`, is taken
    // when the row is missing: it says nothing of what the code does when it exists.)
    let depth = read.path.len();
    let on_insert_arm =
        |path: &[usize]| write.path.len() > depth && path.get(depth) == write.path.get(depth);
    // (Nor is an arm taken when the read found nothing or failed: `Err(e) => Err(e.into())`
    // beside `Err(NotFound) => create(..)` is the read's failure, not its row.)
    let not_found_arm = |path: &[usize]| {
        path.get(depth)
            .is_some_and(|arm| found.arm_found.get(arm) == Some(&Some(false)))
    };
    let exits = found
        .early_returns
        .iter()
        .filter(|exit| {
            read.order < exit.order
                && exit.order < write.order
                && below(&exit.path)
                && !on_insert_arm(&exit.path)
                && !not_found_arm(&exit.path)
        })
        .map(|exit| exit.outcome);
    let arms = found
        .arms
        .iter()
        // (An arm of a later `if`, `if banned { return Err(..) }` after the insert, is not
        // what the code does when the read found the row.)
        .filter(|end| {
            end.order > read.order
                && below(&end.path)
                && apart(&end.path)
                && !not_found_arm(&end.path)
                && (end.order < write.order || found.exclusive(&end.path, &write.path))
        })
        .map(|end| end.outcome);
    Some(exits.chain(arms).collect())
}

/// How many expansions of the crate's macros deep the audit follows (a macro that calls
/// itself stops there).
const MAX_EXPANSION_DEPTH: usize = 4;

/// Every function (free, in an `impl`, in a trait, and in a `macro_rules!` body) with what
/// it does to the database.
#[derive(Default)]
struct Functions {
    found: Vec<(String, FnOps)>,
    /// The same functions by how they are called (for the helper table).
    callees: Vec<(ops::Callee, FnOps)>,
    helpers: std::rc::Rc<ops::Helpers>,
    index: std::rc::Rc<index::Index>,
    macros: std::rc::Rc<expand::Macros>,
    /// The packages the file's package can call, when known.
    visible: Option<Visible>,
    /// The file being visited, by its place in the audit's list.
    file: Option<usize>,
    /// The types of the `impl` blocks being visited, innermost last.
    owners: Vec<String>,
    /// How deep in expansions of the crate's macros (a macro that calls itself stops).
    depth: usize,
    /// Visit `#[cfg(test)]` modules and `#[test]` functions too.
    include_tests: bool,
    /// Reading a trait's method body as one implementor's (its `Self` that type): for the
    /// helper table only, not as a function of its own.
    instantiating: bool,
}

impl Functions {
    fn body(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let name = sig.ident.to_string();
        let method = sig.receiver().is_some();
        let mut collector = Collector::with(std::rc::Rc::clone(&self.helpers), &name);
        collector.generics = sig
            .generics
            .type_params()
            .map(|p| p.ident.to_string())
            .collect();
        collector.index = std::rc::Rc::clone(&self.index);
        collector.visible.clone_from(&self.visible);
        collector.file = self.file;
        collector.macros = std::rc::Rc::clone(&self.macros);
        collector.owner = self.owners.last().cloned();
        collector.parameters(sig);
        // (Unless it also takes a connection sqlx's could be: `payout(&clickhouse, &pool)`.)
        let inputs: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) => Some(type_names(&typed.ty).join("::")),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        collector.other_client = inputs.iter().any(|ty| index::other_client(ty))
            && !inputs.iter().any(|ty| index::sqlx_like(ty));
        collector.visit_block(block);
        // The crate's one writing connection, held: its guard used as the connection
        // (`let mut lock = conn.writer().lock_owned().await; write_tx(&mut lock)`), or a
        // transaction begun on it taken as a parameter.
        // (Or held by the method's own struct: `self.transaction` of a `Database {
        // transaction: AppTransaction }` a write helper makes per transaction.)
        let transaction = |ty: &str| ty.split("::").any(|name| name.ends_with("Transaction"));
        let own_transaction = || {
            sig.receiver().is_some()
                && self.owners.last().is_some_and(|owner| {
                    self.index
                        .fields
                        .iter()
                        .any(|((of, _), ty)| of == owner && transaction(ty))
                })
        };
        if self.index.single_writer
            && collector.found.safe_by.is_none()
            && (inputs.iter().any(|ty| transaction(ty))
                || own_transaction()
                || holds_connection_guard(block))
        {
            collector.found.safe_by = Some(ops::SafeBy::Lock);
        }
        // `fn add_user(&mut self, ..)` of a struct owning its SQLite connection: no other
        // call of it, or of its siblings, runs meanwhile.
        if collector.found.safe_by.is_none()
            && sig
                .receiver()
                .is_some_and(|r| r.reference.is_some() && r.mutability.is_some())
            && self
                .owners
                .last()
                .is_some_and(|ty| self.index.connection_owners.contains(ty))
        {
            collector.found.safe_by = Some(ops::SafeBy::Lock);
        }
        // It returns an error type whose `From` conversion answers a duplicate key as the
        // check does: the insert's `?` handles the lost race.
        if let syn::ReturnType::Type(_, ty) = &sig.output
            && type_names(ty)
                .iter()
                .any(|name| self.index.converters.contains(name))
            && collector.found.safe_by.is_none()
        {
            collector.found.safe_by = Some(ops::SafeBy::HandledUniqueViolation);
            collector.found.by_conversion = true;
        }
        if !collector.found.ops.is_empty() && self.instantiating {
            self.callees.push((
                ops::Callee {
                    name,
                    method,
                    owner: self.owners.last().cloned(),
                },
                collector.found,
            ));
        } else if !collector.found.ops.is_empty() {
            self.callees.push((
                ops::Callee {
                    name: name.clone(),
                    method,
                    owner: self.owners.last().cloned(),
                },
                collector.found.clone(),
            ));
            self.found.push((name, collector.found));
        }
    }

    /// A function with a body (free, or in an `impl`), then the functions nested in it.
    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) {
        if self.skips(attrs) {
            return;
        }
        self.body(sig, block);
        syn::visit::visit_block(self, block);
    }

    /// Whether `attrs` mark test code (see [`index::is_test_code`]) that this audit leaves
    /// out.
    fn skips(&self, attrs: &[syn::Attribute]) -> bool {
        !self.include_tests && index::is_test_code(attrs)
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if !self.skips(&node.attrs) {
            syn::visit::visit_item_mod(self, node);
        }
    }

    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.function(&node.attrs, &node.sig, &node.block);
    }

    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.function(&node.attrs, &node.sig, &node.block);
    }

    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if self.skips(&node.attrs) {
            return;
        }
        let owner = match &*node.self_ty {
            syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        self.owners.push(owner.unwrap_or_default());
        syn::visit::visit_item_impl(self, node);
        self.owners.pop();
    }

    fn visit_impl_item_macro(&mut self, node: &'ast syn::ImplItemMacro) {
        // `insert!(likes, NewLike);` in an `impl`: the functions the crate's macro makes.
        let impl_items = |input: syn::parse::ParseStream| {
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse::<syn::ImplItem>()?);
            }
            Ok(items)
        };
        if self.depth < MAX_EXPANSION_DEPTH
            && let Some(tokens) = self.macros.expand(&node.mac)
            && let Ok(items) = impl_items.parse2(tokens)
        {
            self.depth += 1;
            for item in &items {
                self.visit_impl_item(item);
            }
            self.depth -= 1;
        }
    }

    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        if let Some(block) = &node.default {
            self.function(&node.attrs, &node.sig, block);
        }
    }

    fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
        if self.skips(&node.attrs) {
            return;
        }
        syn::visit::visit_item_trait(self, node);
        // `User::create(state, options)` of a `CreatableModel` whose `create` is the
        // trait's (`Self::create_with_transaction(..)`): that body with `Self` the
        // implementor, for each implementor that does not define it.
        let name = node.ident.to_string();
        let index = std::rc::Rc::clone(&self.index);
        for (ty, inherited) in &index.inherited {
            for (_, methods) in inherited.iter().filter(|(of, _)| *of == name) {
                for item in &node.items {
                    if let syn::TraitItem::Fn(function) = item
                        && let Some(block) = &function.default
                        && methods.contains(&function.sig.ident.to_string())
                        && !self.skips(&function.attrs)
                    {
                        self.owners.push(ty.clone());
                        self.instantiating = true;
                        self.body(&function.sig, block);
                        self.instantiating = false;
                        self.owners.pop();
                    }
                }
            }
        }
    }

    fn visit_item_macro(&mut self, node: &'ast syn::ItemMacro) {
        // `macro_rules!` bodies: each rule's expansion, its `$var`s made plain identifiers,
        // parsed as items when it is some.
        if node.mac.path.is_ident("macro_rules") {
            for (_, body) in expand::rules(node.mac.tokens.clone()) {
                if let Ok(file) = syn::parse2::<syn::File>(expand::plain(body)) {
                    self.visit_file(&file);
                }
            }
        } else if self.depth < MAX_EXPANSION_DEPTH
            && let Some(tokens) = self.macros.expand(&node.mac)
            && let Ok(file) = syn::parse2::<syn::File>(tokens)
        {
            // The crate's own macro called at item level: the items it makes.
            self.depth += 1;
            self.visit_file(&file);
            self.depth -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::one_shot_file;
    use std::path::Path;

    #[test]
    fn tools_and_migrations_run_once_by_their_place() {
        let root = Path::new("/repo");
        for once in [
            "src/cli/import.rs",
            "src/cmd/import_device_profiles.rs",
            "crates/app-cli/src/main.rs",
            "migrations/m0001.rs",
            "api/src/data_migration/dns.rs",
            "crates/app-migrations/src/lib.rs",
        ] {
            assert!(one_shot_file(root, &root.join(once)), "{once}");
        }
        for served in [
            "src/routes/users.rs",
            "src/commander.rs",
            "src/cmd.rs",
            "src/migration_status/handler.rs",
        ] {
            assert!(!one_shot_file(root, &root.join(served)), "{served}");
        }
    }
}
