//! What a function does to the database, in source order: the reads and writes the audit
//! recognizes in sqlx, Diesel and `SeaORM` code, each with its table, its key columns when
//! they can be inferred, whether it is safe on its own (`ON CONFLICT`, `FOR UPDATE`), and
//! whether it sits on a branch.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Expr, ExprMethodCall, Lit};

use super::index::{Aliases, Index, MadeQuery, core_type};

/// Which library an operation goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// SQL text for sqlx (`query`, `query!`, `query_as`, ..).
    Sqlx,
    /// Diesel's query builder.
    Diesel,
    /// `SeaORM`'s entities.
    SeaOrm,
}

/// What a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rows {
    /// One row, or none (`.first()`, `.one(db)`, `fetch_optional`), or a `bool`.
    #[default]
    One,
    /// Many rows (`.load(conn)`, `.all(db)`): it decides only an insert on a branch whose
    /// condition looks into what it read (`if !existing.contains(..)`).
    Many,
    /// A `COUNT` (`SELECT COUNT(*)`, Diesel's `count_star()`/`.count()`, `SeaORM`'s
    /// `.count(db)`): it decides an insert only compared with 0 or 1, not with a limit.
    Count,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads rows (`SELECT`, `.first()`, `.one()`).
    Read,
    /// Inserts rows.
    Insert,
    /// Updates rows (an UPDATE whose "no row" result may decide an INSERT).
    Update,
    /// Deletes rows: an insert after a delete of its table on the way to it replaces the
    /// row (delete, then insert), whatever an earlier read found.
    Delete,
}

/// One database operation in a function.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about one statement, each read on its own by the race rule"
)]
pub struct Op {
    pub kind: Kind,
    pub api: Api,
    /// The table, unquoted, lower case, without schema.
    pub table: String,
    /// Key columns from the read's `WHERE` (or `filter`), in order.
    pub keys: Vec<String>,
    /// The insert's columns, when the SQL lists them.
    pub columns: Vec<String>,
    /// `ON CONFLICT` on an insert (or its failure handled); on a read, `FOR UPDATE`/`FOR
    /// SHARE` (see [`Op::row_lock`]) or one inside a transaction holding SQLite's write
    /// lock.
    pub guarded: bool,
    /// What a read returns: a row, many rows, or a count.
    pub rows: Rows,
    /// A guarded insert's conflict target columns, when written (`ON CONFLICT (uuid)`,
    /// `.on_conflict(users::uuid)`): it guards a read by other columns nothing.
    pub conflict: Vec<String>,
    /// The branches it sits in (`if`, `else`, a `match` arm, a closure such as
    /// `unwrap_or_else`), outermost first, each arm its own id; empty outside any.
    pub path: Vec<usize>,
    /// Where a read was written when a `let` took its result out of a branch of its
    /// initializer (`path` is then the `let`'s): a variant or comparison arm below this
    /// was chosen by what the read found.
    pub written_in: Option<Vec<usize>>,
    /// Position in the function, in visiting (source) order.
    pub order: usize,
    /// Where it is, 1-based.
    pub line: usize,
    /// The function of the audited code it was seen through (`members.create(..)`), when
    /// not written in this one.
    pub via: Option<String>,
    /// An insert that checks for its row itself: `INSERT .. SELECT .. WHERE NOT EXISTS
    /// (SELECT .. FROM` the same table`)`. Under `READ COMMITTED` two such statements both
    /// see no row and both insert: the check and the insert are one statement, not one
    /// atomic step. Its `keys` are the subquery's.
    pub checks_absent: bool,
    /// A read of a table the query joins (`.inner_join(t::table)`), not of its own: it
    /// does not outweigh the insert's own `ON CONFLICT`.
    pub joined: bool,
    /// A read that locks the rows it finds (`FOR UPDATE`, `FOR SHARE`, Diesel's
    /// `for_update()`): it serializes what comes after it for a row found, but locks
    /// nothing when there is none, so an insert on its "no row" arm still races.
    pub row_lock: bool,
}

impl Op {
    /// An operation of `kind` on `table` at `line`: no keys or columns known, not guarded,
    /// not through a helper; `path` and `order` are set where the collector records it.
    fn new(kind: Kind, api: Api, table: String, line: usize) -> Self {
        Op {
            kind,
            api,
            table,
            keys: Vec::new(),
            columns: Vec::new(),
            guarded: false,
            rows: Rows::One,
            conflict: Vec::new(),
            path: Vec::new(),
            written_in: None,
            order: 0,
            line,
            via: None,
            checks_absent: false,
            joined: false,
            row_lock: false,
        }
    }
}

/// What a branch or an early exit gives back, for the fix that keeps the code's intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An error (`return Err(..)`, `Err(..)`, `bail!(..)`, `err!(..)`).
    Error,
    /// A value, such as the row the read found (`Some(row) => row`, `return Ok(user)`).
    Value,
    /// Nothing to tell (`return`, `continue`, `Ok(())`, a block that ends in `;`).
    Nothing,
}

/// An early exit inside a branch, or the end of a branch arm.
#[derive(Debug, Clone)]
pub struct Exit {
    pub order: usize,
    pub path: Vec<usize>,
    pub outcome: Outcome,
    /// Whether the branch it is on is taken when a read found its row (`Some(_)`,
    /// `is_some()`, `if exists`): `Some(true)`; when it found none (`None`, `is_none()`,
    /// `!exists`): `Some(false)`; unknown: `None`.
    pub found: Option<bool>,
}

/// Why a function's reads and inserts cannot race, seen in the function itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeBy {
    /// An advisory lock, `LOCK TABLE` or MySQL's `GET_LOCK` taken in the function (or in
    /// a helper it calls), or a process-wide mutex every caller of the function holds
    /// (`let _guard = SYNC_LOCK.lock();`, see `callers`).
    Lock,
    /// The function sets its transaction `SERIALIZABLE`.
    Serializable,
    /// The function handles the insert's unique violation (`23505`, `1062`,
    /// `is_unique_violation()`, Diesel's `UniqueViolation`).
    HandledUniqueViolation,
    /// It runs once, before or apart from concurrent work: a constructor or `main`
    /// (`new`, `init`, `bootstrap`, `migrate`, `seed_*`), code of a command-line tool or of
    /// migrations (a `*-cli`, `cli` or `migrations` directory), or a function only such
    /// code calls, directly (not in a loop, a closure or a spawned task).
    OneShot,
}

/// Everything one function does, for the race rule.
#[derive(Debug, Default, Clone)]
pub struct FnOps {
    pub ops: Vec<Op>,
    /// Early exits (`return`, `continue`, `break`, `err!`) inside a branch.
    pub early_returns: Vec<Exit>,
    /// The end of each branch arm: what it gives back, where.
    pub arms: Vec<Exit>,
    /// Set when the function protects its reads and inserts itself.
    pub safe_by: Option<SafeBy>,
    /// The `match` arms taken on an error (`Err(_) => ..`): an update's failure there, not
    /// its "no row".
    pub err_arms: std::collections::HashSet<usize>,
    /// The reads of one row whose "no row" leaves at once (`let Some(row) = read else {
    /// return .. }`, `read.ok_or(NotFound)?`): what runs after them runs with the row
    /// found, so they decide no "no row, insert".
    /// By read, the order from which on it is required (after its `let`, the `else` arm
    /// left behind).
    pub required: std::collections::HashMap<usize, usize>,
    /// The `match` arms on an enum's variant (`Plan::Flat(_) =>`, not `Some`/`None`/`Ok`/
    /// `Err`): chosen by what a row holds.
    pub variant_arms: std::collections::HashSet<usize>,
    /// The `if`s (by their first arm's id) on a comparison of two values (`if
    /// old.user_id != user_id`): what a row holds, not whether there is one.
    pub compare_arms: std::collections::HashSet<usize>,
    /// The inserts (by `order`) whose error is mapped on the spot (`.map_err(|_| ..)?`):
    /// no `From` conversion of the function's error type sees it.
    pub mapped: std::collections::HashSet<usize>,
    /// The unique violation is handled only by the `From` conversion of the error type the
    /// function returns (into the "already exists" error its check returns): that handles
    /// a check that rejects, not one that returns or updates the row it found.
    pub by_conversion: bool,
    /// The `if` or `match` each branch arm belongs to (its first arm's id): two arms of one
    /// are exclusive.
    pub groups: std::collections::HashMap<usize, usize>,
    /// Each branch arm's polarity: taken when a read found its row, found none, or either.
    pub arm_found: std::collections::HashMap<usize, Option<bool>>,
    /// The counts (by order) a condition compares with a limit (`if n >= max`): quotas,
    /// which decide no insert.
    pub quotas: std::collections::HashSet<usize>,
    /// The list reads (by order) whose rows each branch arm's condition looks into.
    pub list_checks: std::collections::HashMap<usize, Vec<usize>>,
    /// The reads (by order) each branch arm's condition looks at: made in the condition
    /// (`if read(..).await?.is_some()`, a `?` on a checking helper) or through a variable
    /// holding what one gave (`if existing.is_some()`, `match found { .. }`). An exit on an
    /// arm whose condition looks at no read (`if !session.is_admin { return }`) is not
    /// decided by one.
    pub looks_at: std::collections::HashMap<usize, Vec<usize>>,
    /// The inserts (by order) of a value a variable holds from reads (by order): `let mut
    /// row = match read(..) { Some(row) => row, None => Row::new(..) }; row.save(conn)`;
    /// of what a list read lacks (`add_labels(wanted.difference(&present))`); and of a
    /// value changed because a read found its row (`if let Some(r) = taken { slug =
    /// format!("{}-{}", r.slug, n) }`, then the insert of `slug`).
    pub fed: std::collections::HashMap<usize, Vec<usize>>,
    /// The operations (by order) made through the guard of a mutex the function holds
    /// (`let adaptor = &state.lock().await.adaptor; adaptor.create_event(..)`): two of them
    /// cannot interleave with another holder's. So do those of a `static` cell's
    /// initialiser, which runs once.
    pub locked_ops: std::collections::HashSet<usize>,
    /// Where the function calls a helper that locks a row (one named `*_for_update`, or
    /// one of [`Index::row_lockers`]), by order: a check after it, in the same
    /// transaction, runs one
    /// caller at a time for that row (`find_by_id_for_update(&txn, user_id)` before
    /// checking the user's membership).
    pub row_locks: Vec<usize>,
    /// Where the function takes the lock its [`FnOps::safe_by`] names, when it takes it
    /// itself (a locking call or statement: `pg_advisory_xact_lock`, `BEGIN IMMEDIATE`, the
    /// crate's helper for one), by order: a read before it is not under it (a check on a
    /// pooled connection, then `pool.begin_immediate()` for the insert).
    pub lock_at: Option<usize>,
}

impl FnOps {
    /// Marks the inserts among the operations from position `start` on as fed by `reads`
    /// (see [`FnOps::fed`]).
    fn feed(&mut self, start: usize, reads: &[usize]) {
        if reads.is_empty() {
            return;
        }
        for op in &self.ops[start..] {
            if op.kind == Kind::Insert {
                let fed = self.fed.entry(op.order).or_default();
                for read in reads {
                    if !fed.contains(read) {
                        fed.push(*read);
                    }
                }
            }
        }
    }

    /// Whether branch arm `arm` is an arm of an `if` on a comparison of two values.
    pub fn compares(&self, arm: usize) -> bool {
        self.groups
            .get(&arm)
            .is_some_and(|group| self.compare_arms.contains(group))
    }

    /// Whether code at `a` and code at `b` are on different arms of one `if` or `match`, so
    /// that one never runs before the other.
    pub fn exclusive(&self, a: &[usize], b: &[usize]) -> bool {
        a.iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .is_some_and(|(x, y)| self.groups.get(x) == self.groups.get(y))
    }
}

/// Collects [`FnOps`] from a function body.
#[derive(Default)]
pub struct Collector {
    pub found: FnOps,
    /// Functions of the audited code that read or insert a table, by name: a call to one
    /// is that operation, at the call.
    pub helpers: std::rc::Rc<Helpers>,
    /// The function being collected: its own name is not a helper in it (recursion).
    own: String,
    /// `SeaORM` `ActiveModel`s bound to a variable, by name, with their table.
    models: std::collections::HashMap<String, String>,
    /// `SeaORM` `Model`s made here (`bot_installations::Model::new(..)`) or given as a
    /// parameter (`model: mega_refs::Model`), by name, with their table:
    /// `model.into_active_model()` is that table's `ActiveModel`.
    made_models: std::collections::HashMap<String, String>,
    /// SQL strings bound to a variable (`let query = r#"INSERT .."#;`), by name, with the
    /// position of their statement in the function's list: the statement is reported
    /// where the query runs (`diesel::sql_query(query)`), as one written there would be.
    sql_vars: std::collections::HashMap<String, usize>,
    /// The results of inserts bound without `?` (`let res = insert.exec(db).await;`), by
    /// name, with the inserts' positions in the function's list.
    insert_results: std::collections::HashMap<String, Vec<usize>>,
    /// The type of each local variable the function binds, when its `let` shows it
    /// (`let user: User`, `let user = User::new(..)`, `match User::find(..) { .. }`).
    types: std::collections::HashMap<String, String>,
    /// Local variables bound to a value the function makes (`User::new(..)`, a struct
    /// literal), as opposed to one it loaded: saving one inserts a new row.
    fresh: std::collections::HashSet<String>,
    /// Queries built into a variable and fetched later (`let query =
    /// users::table.filter(..); query.first(conn)`): the library, table and keys.
    queries: std::collections::HashMap<String, Source>,
    /// Query builders made into a variable and run later (`let mut query_builder =
    /// InsertQueryBuilder::new("users"); .. query_builder.execute(..)`): the builder's type
    /// and the table.
    builders: std::collections::HashMap<String, (String, String)>,
    /// What the audit knows of the whole crate.
    pub index: std::rc::Rc<Index>,
    /// The Cargo packages the function's package can call, when known.
    pub visible: Option<std::rc::Rc<std::collections::HashSet<usize>>>,
    /// The file of the function being collected, by its place in the audit's list.
    pub file: Option<usize>,
    /// The crate's own `macro_rules!`, expanded where the function calls them.
    pub macros: std::rc::Rc<super::expand::Macros>,
    /// The type of the `impl` the function is in (what `Self::` names).
    pub owner: Option<String>,
    /// The function takes another client than sqlx (`client: &clickhouse::Client`): its
    /// SQL strings are that client's.
    pub other_client: bool,
    /// The branch ids enclosing the current position.
    path: Vec<usize>,
    /// For each enclosing branch, whether it is taken when a read found its row.
    found_branch: Vec<Option<bool>>,
    /// The last branch id handed out.
    ids: usize,
    /// The order of the last read that is true when the row is missing
    /// (`select(not(exists(..)))`).
    negated: Option<usize>,
    /// Variables holding a list read's rows or a count, or values made from them, with the
    /// reads' orders (`let existing = t::table..load(conn)?; let names = existing.iter()..`).
    lists: std::collections::HashMap<String, Vec<usize>>,
    /// The list reads the condition of the branch about to be visited looks into.
    pending_lists: Vec<usize>,
    /// Variables holding what a list read lacks (`let missing = wanted.filter(|w|
    /// !present.contains(w))`): one not empty means some rows were not found.
    derived_lists: std::collections::HashSet<String>,
    /// Variables holding what a read gave, or a value made from one (`let existing =
    /// read(..)`, `let taken = existing.is_some()`, `found = true` on an arm that looked at
    /// one), with the reads' orders.
    values: std::collections::HashMap<String, Vec<usize>>,
    /// The reads the condition of the branch about to be visited looks at.
    pending_looks: Vec<usize>,
    /// Variables bound to the row a read found or to a value made in its place (`let mut
    /// row = match read(..) { Some(row) => row, None => Row::new(..) }`), with the reads.
    found_or_made: std::collections::HashMap<String, Vec<usize>>,
    /// Variables given a new value on an arm whose condition looked at a read (`if let
    /// Some(r) = taken { slug = format!("{}-{}", r.slug, n) }`), with the reads: what the
    /// read found decided the value, so it decides an insert of it.
    altered: std::collections::HashMap<String, Vec<usize>>,
    /// The variables and fields each read (by order) was given (`find_by_slug(&slug,
    /// conn)`, `.bind(input.slug)`): a
    /// variable one of them is given anew when it found its row is a probe for a free
    /// value ([`Collector::altered`]).
    read_args: std::collections::HashMap<usize, Vec<String>>,
    /// The exits (by order) that an unlabelled `break` or `continue` makes: they leave
    /// their loop, not the function (see [`Collector::loop_body`]).
    loop_exits: std::collections::HashSet<usize>,
    /// Variables a `let` binds to what reads of one row made in its initializer gave
    /// (`let found = fetch_chat(id).await?;`), with the reads.
    read_into: std::collections::HashMap<String, Vec<usize>>,
    /// Variables holding a mutex's guard, or what it guards (`let adaptor =
    /// &state.lock().await.adaptor;`).
    guards: std::collections::HashSet<String>,
    /// The function's type parameters: a Diesel table named by one is [`GENERIC_TABLE`].
    pub generics: std::collections::HashSet<String>,
    /// The table the call being resolved names for a generic helper's [`GENERIC_TABLE`].
    call_table: Option<String>,
    /// Variables holding whether a read found nothing (`let free = read.await?.is_none();`):
    /// `if free { .. }` is taken when the row is missing.
    absent_flags: std::collections::HashSet<String>,
    order: usize,
}

impl Collector {
    fn next(&mut self) -> usize {
        self.order += 1;
        self.order
    }

    /// The operations of a SQL string: the reads of the tables a `SELECT` joins, then its
    /// own (as for a Diesel join), or the statement's one.
    fn push_sql(&mut self, sql: &str, span: Span) {
        let Some(op) = sql_op(sql, span) else {
            return;
        };
        if op.kind == Kind::Read {
            // `SELECT COUNT(*) .. AND created > NOW() - INTERVAL '20 minutes'`: the rows of
            // a recent window counted, a rate limit (as a count held against a limit is),
            // not a check that a row exists.
            let window = op.rows == Rows::Count && recent_window(sql);
            self.push_read(op, joined_tables(sql));
            if window {
                self.found.quotas.insert(self.order);
            }
        } else {
            self.push(op);
        }
    }

    /// A read through joins: each joined table's read first (with the keys that name it),
    /// then the read of its own table, the last operation as a plain read is.
    fn push_read(&mut self, op: Op, joined: Joined) {
        for (table, keys) in joined {
            if !table.eq_ignore_ascii_case(&op.table) {
                self.push(Op {
                    table,
                    keys,
                    joined: true,
                    ..op.clone()
                });
            }
        }
        self.push(op);
    }

    fn push(&mut self, mut op: Op) {
        // SQL in a file (or a function) of rusqlite (or another client the audit does not
        // read) code. (Not what a helper of the crate does: `db::datasets::create(&db.pool,
        // ..)` in a function that also takes a ClickHouse client is sqlx's.)
        if op.api == Api::Sqlx
            && op.via.is_none()
            && (self.other_client
                || self
                    .file
                    .and_then(|f| self.index.other_client.get(f))
                    .is_some_and(|&other| other))
        {
            return;
        }
        op.order = self.next();
        op.path.clone_from(&self.path);
        // `types::Entity::table()`: the table of the struct's `#[diesel(table_name = ..)]`.
        if op.api == Api::Diesel
            && let Some(table) = self.index.diesel_tables.get(&op.table)
        {
            op.table.clone_from(table);
        } else if op.api == Api::Diesel && self.generics.contains(&op.table) {
            GENERIC_TABLE.clone_into(&mut op.table);
        }
        // `invitations_table` imported as `dsl::{invitations as invitations_table}`.
        if op.api == Api::Diesel
            && let Some(renames) = self.file.and_then(|f| self.index.diesel_renames.get(f))
        {
            if let Some(real) = renames.get(&op.table) {
                op.table.clone_from(real);
            }
            for name in op.keys.iter_mut().chain(op.conflict.iter_mut()) {
                if let Some(real) = renames.get(name) {
                    name.clone_from(real);
                }
            }
        }
        // `Entity::find()` / `ActiveModel { .. }` with the entity imported by its bare
        // name: the file's module is the best name for its table (`table/folders.rs`), so
        // that two modules' bare entities are not taken for one table.
        // (Its `use` names the entity's module when it imports one alone:
        // `use entity::smtp_configs::{ActiveModel, Entity as SmtpConfigEntity};`.)
        if op.table == "entity"
            && let Some(module) = self.file.and_then(|f| self.index.entity_of_file(f))
        {
            op.table = module;
        }
        // Delete, then insert: a rewrite of the row, not an insert decided by a read (two
        // rewrites at once is another race, the audit's rules leave it out).
        if op.kind == Kind::Insert
            && self.found.ops.iter().any(|d| {
                d.kind == Kind::Delete
                    && d.table.eq_ignore_ascii_case(&op.table)
                    && op.path.starts_with(&d.path)
            })
        {
            op.guarded = true;
        }
        self.found.ops.push(op);
    }

    /// Visits a branch with one arm (a closure that runs only in one case, a `let .. else`).
    fn branch<F: FnOnce(&mut Self)>(&mut self, visit: F) {
        let group = self.ids + 1;
        self.branch_when(group, None, visit);
    }

    /// Visits one arm of the `if` or `match` whose first arm is `group`, taken when a read
    /// found its row (`Some(true)`), found none (`Some(false)`), or either.
    fn branch_when<F: FnOnce(&mut Self)>(&mut self, group: usize, found: Option<bool>, visit: F) {
        self.ids += 1;
        self.found.groups.insert(self.ids, group);
        let lists = std::mem::take(&mut self.pending_lists);
        if !lists.is_empty() {
            self.found.list_checks.insert(self.ids, lists.clone());
        }
        let looks = std::mem::take(&mut self.pending_looks);
        // Inside an arm taken when the read found its row (or found none), a condition on
        // that read's row is on the same side whichever way it goes: `if let Some(r) =
        // attempt { if r.is_expired() { delete } else { return Ok(r) } }` returns on a row
        // found.
        let found = self.enclosing_found(&looks).or(found);
        self.found.arm_found.insert(self.ids, found);
        if !looks.is_empty() {
            self.found.looks_at.insert(self.ids, looks.clone());
        }
        self.path.push(self.ids);
        self.found_branch.push(found);
        visit(self);
        self.found_branch.pop();
        self.path.pop();
        // The next arm of the same `if` or `match` is under the same condition.
        self.pending_lists = lists;
        self.pending_looks = looks;
    }

    /// The reads an expression visited from op `start` on looks at: those it made, and
    /// those the variables it names hold.
    fn looks_in(&self, expr: &Expr, start: usize) -> Vec<usize> {
        let mut looks: Vec<usize> = self.found.ops[start..]
            .iter()
            .filter(|op| matches!(op.kind, Kind::Read | Kind::Update))
            .map(|op| op.order)
            .collect();
        for order in names_in(&self.values, expr) {
            if !looks.contains(&order) {
                looks.push(order);
            }
        }
        looks
    }

    /// Whether the innermost arm around the current position whose condition looks at
    /// every read in `looks` is taken when a read found its row, if it says.
    fn enclosing_found(&self, looks: &[usize]) -> Option<bool> {
        if looks.is_empty() {
            return None;
        }
        self.path.iter().rev().find_map(|arm| {
            let outer = self.found.looks_at.get(arm)?;
            if looks.iter().all(|order| outer.contains(order)) {
                self.found.arm_found.get(arm).copied().flatten()
            } else {
                None
            }
        })
    }

    /// The reads the conditions of the arms around the current position look at.
    fn enclosing_looks(&self) -> Vec<usize> {
        let mut looks = Vec::new();
        for arm in &self.path {
            for order in self.found.looks_at.get(arm).into_iter().flatten() {
                if !looks.contains(order) {
                    looks.push(*order);
                }
            }
        }
        looks
    }

    /// Binds the variables of `pat` to the reads `looks` (forgets them when it is empty: a
    /// new binding of the name holds something else).
    fn bind_values(&mut self, pat: &syn::Pat, looks: &[usize]) {
        let mut idents = Vec::new();
        pattern_idents(pat, &mut idents);
        for name in idents {
            if looks.is_empty() {
                self.values.remove(&name);
            } else {
                self.values.insert(name, looks.to_vec());
            }
        }
    }

    fn early_exit(&mut self, outcome: Outcome) {
        if !self.path.is_empty() {
            let exit = self.exit_here(outcome);
            self.found.early_returns.push(exit);
        }
    }

    /// Records what the arm being visited ends with.
    fn arm_ends_with(&mut self, outcome: Outcome) {
        let end = self.exit_here(outcome);
        self.found.arms.push(end);
    }

    /// A `let` binding `name` to what its initializer gave: a value of its own, no longer
    /// one a read's arm changed ([`Collector::altered`]), and what the reads of one row
    /// made there (`read`, by order) found, if any ([`Collector::read_into`]).
    fn bind_read(&mut self, name: &str, read: &[usize]) {
        self.altered.remove(name);
        if read.is_empty() {
            self.read_into.remove(name);
        } else {
            self.read_into.insert(name.to_owned(), read.to_vec());
        }
    }

    /// A `break` or `continue` (`plain`: without a label, so it leaves the innermost loop).
    fn loop_exit(&mut self, plain: bool) {
        let before = self.found.early_returns.len();
        self.early_exit(Outcome::Nothing);
        if plain && let Some(exit) = self.found.early_returns.get(before) {
            self.loop_exits.insert(exit.order);
        }
    }

    /// Visits a loop's body: a `break` or `continue` in it leaves the loop, and skips only
    /// what the rest of the body would do. Where the body inserts nothing, they skip no
    /// insert, and are not exits for the code after the loop (`for value in history { if
    /// .. { found = Some(id); break; } }` and then the insert).
    fn loop_body(&mut self, visit: impl FnOnce(&mut Self)) {
        let (ops, exits) = (self.found.ops.len(), self.found.early_returns.len());
        visit(self);
        if self.found.ops[ops..]
            .iter()
            .all(|op| op.kind != Kind::Insert)
        {
            let inside = self.found.early_returns.split_off(exits);
            let loop_exits = &self.loop_exits;
            self.found.early_returns.extend(
                inside
                    .into_iter()
                    .filter(|exit| !loop_exits.contains(&exit.order)),
            );
        }
    }

    /// An exit with `outcome` at the current position, on the innermost branch whose
    /// polarity is known.
    fn exit_here(&mut self, outcome: Outcome) -> Exit {
        Exit {
            order: self.next(),
            path: self.path.clone(),
            outcome,
            found: self.found_branch.iter().rev().find_map(|f| *f),
        }
    }
}

/// Whether an expression keeps what a negated test rejects (`.filter(|w|
/// !present.contains(w))`): the values a list lacks.
fn keeps_missing(expr: &Expr) -> bool {
    struct Negated(bool);
    impl<'ast> Visit<'ast> for Negated {
        fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
            if node.method == "filter"
                && let Some(Expr::Closure(closure)) = node.args.first()
            {
                let mut body = &*closure.body;
                while let Expr::Block(block) = body
                    && let [syn::Stmt::Expr(last, None)] = block.block.stmts.as_slice()
                {
                    body = last;
                }
                self.0 |= matches!(body, Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)));
            }
            syn::visit::visit_expr_method_call(self, node);
        }
    }
    let mut negated = Negated(false);
    negated.visit_expr(expr);
    negated.0
}

/// The variables a pattern binds.
fn pattern_idents(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Idents<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Idents<'_> {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            self.0.push(node.ident.to_string());
            syn::visit::visit_pat_ident(self, node);
        }
    }
    Idents(out).visit_pat(pat);
}

/// The reads held by the variables (in `values`) that `expr` names.
fn names_in(values: &std::collections::HashMap<String, Vec<usize>>, expr: &Expr) -> Vec<usize> {
    if values.is_empty() {
        return Vec::new();
    }
    let mut names = HeldNames(values, Vec::new(), None);
    names.visit_expr(expr);
    names.1
}

/// The visitor of [`names_in`]: the variables of `.0` an expression names, with the reads
/// they hold gathered into `.1`; and, when `.2` is given ([`Collector::note_values`]),
/// every variable it names and every field it reads (`slug` of `input.slug`).
struct HeldNames<'a>(
    &'a std::collections::HashMap<String, Vec<usize>>,
    Vec<usize>,
    Option<Vec<String>>,
);

impl<'ast> Visit<'ast> for HeldNames<'_> {
    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        if let Some(name) = node.path.get_ident() {
            let name = name.to_string();
            if let Some(orders) = self.0.get(&name) {
                for order in orders {
                    if !self.1.contains(order) {
                        self.1.push(*order);
                    }
                }
            }
            if let Some(all) = &mut self.2 {
                all.push(name);
            }
        }
    }
    fn visit_expr_field(&mut self, node: &'ast syn::ExprField) {
        // `input.slug` names `slug` too: a value the read was given by that name.
        if let syn::Member::Named(member) = &node.member
            && let Some(all) = &mut self.2
        {
            all.push(member.to_string());
        }
        syn::visit::visit_expr_field(self, node);
    }
    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        // `format!("{}", existing.name)`, `matches!(found, Some(_))`.
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = syn::parse::Parser::parse2(parser, node.tokens.clone()) {
            for expr in &exprs {
                self.visit_expr(expr);
            }
        }
    }
}

/// For a condition joined by `&&` or `||`, when each arm of its `if` is taken: the arm
/// taken when `a && b` holds, when both do (`if data.canonical && has_canonical(..)? {
/// return Err }` returns on a row found); the other, when either fails (unknown). `None`
/// for any other condition ([`found_when`] tells).
fn arms_found(cond: &Expr) -> Option<(Option<bool>, Option<bool>)> {
    let both = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(x), Some(y)) if x == y => Some(x),
        (Some(x), None) | (None, Some(x)) => Some(x),
        _ => None,
    };
    let side = |e: &Expr| {
        arms_found(e).unwrap_or_else(|| {
            let f = known_found(e);
            (f, f.map(|f| !f))
        })
    };
    match cond {
        Expr::Paren(inner) => arms_found(&inner.expr),
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
            arms_found(&unary.expr).map(|(then, otherwise)| (otherwise, then))
        }
        Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
            let (left, right) = (side(&binary.left), side(&binary.right));
            Some((both(left.0, right.0), None))
        }
        Expr::Binary(binary) if matches!(binary.op, syn::BinOp::Or(_)) => {
            let (left, right) = (side(&binary.left), side(&binary.right));
            Some((None, both(left.1, right.1)))
        }
        _ => None,
    }
}

/// [`found_when`] for a side of `&&` or `||`, where a bare flag or field (`data.canonical`,
/// `is_admin`) says nothing of a read: only a call or a method that tests one.
fn known_found(cond: &Expr) -> Option<bool> {
    match cond {
        Expr::Path(_) | Expr::Field(_) | Expr::Lit(_) | Expr::Binary(_) => None,
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
            known_found(&unary.expr).map(|f| !f)
        }
        Expr::Paren(inner) => known_found(&inner.expr),
        other => found_when(other),
    }
}

/// The table of the `SeaORM` `ActiveModel` a function answers, itself or in a `Result`,
/// an `Option` or a `Box` (`-> Result<ActiveModel, ValidationErrors>`, `->
/// user::ActiveModel`; `entity` for a bare `ActiveModel`), if it answers one.
pub fn builds_model(sig: &syn::Signature) -> Option<String> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let mut ty = &**ty;
    loop {
        let syn::Type::Path(path) = ty else {
            return None;
        };
        let last = path.path.segments.last()?;
        if last.ident == "ActiveModel" {
            return match segments(&path.path).as_slice() {
                [.., table, _]
                    if !matches!(table.as_str(), "self" | "Self" | "crate" | "super") =>
                {
                    Some(table.clone())
                }
                _ => Some("entity".to_owned()),
            };
        }
        if !matches!(last.ident.to_string().as_str(), "Result" | "Option" | "Box") {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let Some(syn::GenericArgument::Type(inner)) = args.args.first() else {
            return None;
        };
        ty = inner;
    }
}

/// The table of the `SeaORM` query a function answers (`-> Select<Entity>`, `->
/// sea_orm::Select<user::Entity>`), if it answers one.
pub fn selects(sig: &syn::Signature) -> Option<String> {
    // (A free function: see [`made_query`].)
    if sig.receiver().is_some() {
        return None;
    }
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Select" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(entity))) = args.args.first() else {
        return None;
    };
    match segments(&entity.path).as_slice() {
        [.., table, last] if last == "Entity" => Some(table.clone()),
        [last] if last == "Entity" => Some("entity".to_owned()),
        _ => None,
    }
}

/// Whether a function answering a `bool` (`-> bool`, `-> Result<bool, E>`) answers a
/// read's "nothing" (`Some(true)`: `Ok(find_by_email(..).await?.is_none())`, `!exists`),
/// or something else (`Some(false)`); `None` for a function answering no `bool`.
pub fn tests_absence(sig: &syn::Signature, block: &syn::Block) -> Option<bool> {
    // (A method named as the standard tests, `fn is_empty(&self)`, is read as they are.)
    if matches!(
        sig.ident.to_string().as_str(),
        "is_none" | "is_some" | "is_empty" | "is_ok" | "is_err" | "is_none_or" | "is_some_and"
    ) {
        return None;
    }
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let answers_bool = match &**ty {
        syn::Type::Path(path) => path.path.segments.last().is_some_and(|last| {
            last.ident == "bool"
                || matches!(&last.arguments, syn::PathArguments::AngleBracketed(args)
                    if matches!(args.args.first(), Some(syn::GenericArgument::Type(
                        syn::Type::Path(inner))) if inner.path.is_ident("bool")))
        }),
        _ => false,
    };
    if !answers_bool {
        return None;
    }
    // The value the body ends with, out of `Ok(..)` and blocks.
    let Some(syn::Stmt::Expr(last, None)) = block.stmts.last() else {
        return Some(false);
    };
    let mut tail = last;
    loop {
        match tail {
            Expr::Call(call)
                if call.args.len() == 1
                    && matches!(&*call.func, Expr::Path(p) if p.path.is_ident("Ok")) =>
            {
                tail = &call.args[0];
            }
            Expr::Paren(inner) => tail = &inner.expr,
            Expr::Block(inner) => match inner.block.stmts.last() {
                Some(syn::Stmt::Expr(expr, None)) => tail = expr,
                _ => return Some(false),
            },
            _ => break,
        }
    }
    Some(true_when_absent(tail))
}

/// Whether a `bool` a function ends with is `true` when its rows are missing: `true` where
/// there is no row (`found.map(|u| u.id == user_id).unwrap_or(true)`, `found.map_or(true,
/// |u| ..)`, `found.is_none()`), or a choice among such tests (`self.pdf.is_none() ||
/// self.csv.is_none()`, the same on each arm of an `if`).
fn true_when_absent(tail: &Expr) -> bool {
    match tail {
        Expr::MethodCall(call) if call.method == "unwrap_or" || call.method == "map_or" => {
            matches!(call.args.first(), Some(Expr::Lit(syn::ExprLit { lit: Lit::Bool(b), .. })) if b.value)
        }
        Expr::Binary(binary) if matches!(binary.op, syn::BinOp::Or(_) | syn::BinOp::And(_)) => {
            true_when_absent(&binary.left) && true_when_absent(&binary.right)
        }
        Expr::Paren(inner) => true_when_absent(&inner.expr),
        Expr::If(branch) => {
            let ends_absent = |block: &syn::Block| matches!(block.stmts.last(), Some(syn::Stmt::Expr(last, None)) if true_when_absent(last));
            ends_absent(&branch.then_branch)
                && branch
                    .else_branch
                    .as_ref()
                    .is_some_and(|(_, other)| match &**other {
                        Expr::Block(block) => ends_absent(&block.block),
                        other => true_when_absent(other),
                    })
        }
        Expr::MethodCall(_) | Expr::Unary(_) => found_when(tail) == Some(false),
        _ => false,
    }
}

/// Whether an `if` condition holds when a read found its row: `is_some()`, `is_ok()`,
/// `exists`, `if let Some(..)` yes; `is_none()`, `!..`, `if let None` no; else unknown.
fn found_when(cond: &Expr) -> Option<bool> {
    match cond {
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
            found_when(&unary.expr).map(|f| !f)
        }
        Expr::Paren(inner) => found_when(&inner.expr),
        Expr::Let(binding) => pattern_found(&binding.pat),
        Expr::MethodCall(call) => match call.method.to_string().as_str() {
            "is_some" | "is_ok" | "is_some_and" | "is_ok_and" => Some(true),
            "is_none" | "is_err" | "is_none_or" | "is_empty" => Some(false),
            _ => found_when(&call.receiver).or(Some(true)),
        },
        Expr::Await(inner) => found_when(&inner.base),
        Expr::Try(inner) => found_when(&inner.expr),
        // `if exists`, `if user_exists(..)`, `if db.is_owner(..)?`: true when found.
        Expr::Path(_) | Expr::Call(_) => Some(true),
        _ => None,
    }
}

/// Whether a match arm's pattern is taken when a read found its row.
fn pattern_found(pat: &syn::Pat) -> Option<bool> {
    let name = match pat {
        syn::Pat::TupleStruct(tuple) => tuple.path.segments.last()?.ident.to_string(),
        syn::Pat::Ident(ident) => ident.ident.to_string(),
        syn::Pat::Path(path) => path.path.segments.last()?.ident.to_string(),
        syn::Pat::Lit(lit) => match &lit.lit {
            Lit::Bool(b) => return Some(b.value),
            _ => return None,
        },
        _ => return None,
    };
    match name.as_str() {
        "Some" | "Ok" => Some(true),
        "None" | "Err" => Some(false),
        _ => None,
    }
}

/// A condition that compares two values (`a.user_id != user_id`, `x == y`), neither a
/// literal nor `None` (`count == 0`, `found == None` ask whether there is a row).
fn compares_values(cond: &Expr) -> bool {
    let plain = |e: &Expr| {
        !matches!(e, Expr::Lit(_))
            && !matches!(e, Expr::Path(p) if p.path.is_ident("None"))
            && !matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Some")))
    };
    match cond {
        Expr::Binary(binary) if matches!(binary.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) => {
            plain(&binary.left) && plain(&binary.right)
        }
        Expr::Paren(inner) => compares_values(&inner.expr),
        _ => false,
    }
}

/// A pattern naming an enum's variant by its type (`Plan::Flat(_)`, `Kind::Admin`,
/// `Event::Created { .. }`), none of `Option`'s or `Result`'s.
fn is_variant(pat: &syn::Pat) -> bool {
    let path = match pat {
        syn::Pat::TupleStruct(tuple) => &tuple.path,
        syn::Pat::Path(path) => &path.path,
        syn::Pat::Struct(item) => &item.path,
        _ => return false,
    };
    path.segments.len() >= 2
        && !matches!(
            path.segments.last().map(|s| s.ident.to_string()).as_deref(),
            Some("Some" | "None" | "Ok" | "Err")
        )
}

/// What an expression gives back, as the last expression of a branch or a `return`'s value.
pub fn outcome_of(expr: &Expr) -> Outcome {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(path) if path.path.is_ident("Err") => Outcome::Error,
            Expr::Path(path) if path.path.is_ident("Ok") || path.path.is_ident("Some") => {
                call.args.first().map_or(Outcome::Nothing, |arg| match arg {
                    Expr::Tuple(tuple) if tuple.elems.is_empty() => Outcome::Nothing,
                    _ => Outcome::Value,
                })
            }
            _ => Outcome::Nothing,
        },
        Expr::Macro(mac) if error_macro(&mac.mac) => Outcome::Error,
        Expr::Return(ret) => ret.expr.as_deref().map_or(Outcome::Nothing, outcome_of),
        Expr::Path(_) | Expr::Field(_) => Outcome::Value,
        Expr::Block(block) => block_outcome(&block.block),
        Expr::Paren(inner) => outcome_of(&inner.expr),
        Expr::MethodCall(call) if call.method == "into" || call.method == "clone" => {
            outcome_of(&call.receiver)
        }
        _ => Outcome::Nothing,
    }
}

/// What a block gives back: its tail expression, or a diverging last statement.
fn block_outcome(block: &syn::Block) -> Outcome {
    match block.stmts.last() {
        Some(syn::Stmt::Expr(expr, None) | syn::Stmt::Expr(expr @ Expr::Return(_), Some(_))) => {
            outcome_of(expr)
        }
        Some(syn::Stmt::Macro(mac)) if error_macro(&mac.mac) => Outcome::Error,
        Some(syn::Stmt::Expr(Expr::Macro(mac), Some(_))) if error_macro(&mac.mac) => Outcome::Error,
        _ => Outcome::Nothing,
    }
}

/// A macro that returns an error: `bail!`, and the `err!` family of codebases that define
/// one (`err!`, `err_code!`, `err_silent!`).
fn error_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|last| {
        let name = last.ident.to_string();
        name == "bail" || name == "err" || name.starts_with("err_")
    })
}

/// Whether a pattern is `Err(..)`.
fn is_err_pattern(pat: &syn::Pat) -> bool {
    matches!(pat, syn::Pat::TupleStruct(tuple)
        if tuple.path.segments.last().is_some_and(|s| s.ident == "Err"))
}

/// Whether a pattern binds a row a read found: `Some(row)`, `Ok(Some(row))` (not `Ok(x)`,
/// which may hold `None`).
fn binds_row(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::TupleStruct(tuple) => match tuple.path.segments.last() {
            Some(last) if last.ident == "Some" => true,
            Some(last) if last.ident == "Ok" => tuple.elems.iter().any(binds_row),
            _ => false,
        },
        syn::Pat::Ident(binding) => binding.subpat.as_ref().is_some_and(|(_, p)| binds_row(p)),
        _ => false,
    }
}

/// Whether an initializer turns "no row" into an error it returns at once:
/// `read.await?.ok_or(NotFound)?`, `.ok_or_else(..)?`, anyhow's `.context(..)?` on the
/// `Option` a `?` already took out of the read's `Result` (on the `Result` itself, as in
/// `.one(db).await.context(..)?`, it turns only the database's error into one).
fn requires_row(init: &Expr) -> bool {
    let Expr::Try(tried) = init else {
        return false;
    };
    let Expr::MethodCall(call) = strip_awaits(&tried.expr) else {
        return false;
    };
    match call.method.to_string().as_str() {
        "ok_or" | "ok_or_else" => true,
        "context" | "with_context" => matches!(&*call.receiver, Expr::Try(_)),
        _ => false,
    }
}

/// Branching adapters on `Option`/`Result` whose closure runs only in one case.
const BRANCH_METHODS: &[&str] = &[
    "unwrap_or_else",
    "or_else",
    "map_or_else",
    "map_or",
    "and_then",
    "ok_or_else",
    "get_or_insert_with",
];

impl<'ast> Visit<'ast> for Collector {
    fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
        let start = self.found.ops.len();
        self.visit_expr(&node.cond);
        self.pending_looks = self.looks_in(&node.cond, start);
        let (found, otherwise_found) = if self.on_derived_list(&node.cond) {
            // `if !missing.is_empty()`: some wanted rows were not found, or none; not
            // whether the read found its rows.
            (None, None)
        } else {
            arms_found(&node.cond).unwrap_or_else(|| {
                let found = found_when(&node.cond).map(|f| f != self.names_absent(&node.cond));
                (found, found.map(|f| !f))
            })
        };
        let group = self.ids + 1;
        // The condition looks into the lists it names, and into a list it reads itself
        // (`if !t::Entity::find()..all(db).await?.is_empty() { return .. }`).
        let mut lists = self.lists_in(&node.cond);
        lists.extend(
            self.found.ops[start..]
                .iter()
                .filter(|op| op.kind == Kind::Read && op.rows == Rows::Many)
                .map(|op| op.order),
        );
        self.pending_lists = lists;
        self.note_quotas(&node.cond, start);
        if compares_values(&node.cond) {
            self.found.compare_arms.insert(group);
        }
        let cond_end = self.found.ops.len();
        self.branch_when(group, found, |this| {
            this.visit_block(&node.then_branch);
            this.arm_ends_with(block_outcome(&node.then_branch));
        });
        // `if let Err(e) = insert { read again .. }`
        if let Expr::Let(taken) = &*node.cond
            && is_err_pattern(&taken.pat)
        {
            self.recovered_by_reading(start..cond_end, cond_end..self.found.ops.len());
        }
        if let Some((_, otherwise)) = &node.else_branch {
            self.branch_when(group, otherwise_found, |this| {
                this.visit_expr(otherwise);
                this.arm_ends_with(outcome_of(otherwise));
            });
        }
        self.pending_lists.clear();
        self.pending_looks.clear();
    }

    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        let start = self.found.ops.len();
        self.visit_expr(&node.expr);
        let group = self.ids + 1;
        self.pending_lists = self.lists_in(&node.expr);
        self.pending_looks = self.looks_in(&node.expr, start);
        let reads = self.found.ops.len();
        // Whether every arm that goes on past the `match` is one taken on a row found.
        let mut only_found_goes_on = true;
        let mut goes_on = false;
        for arm in &node.arms {
            let id = self.ids + 1;
            if is_err_pattern(&arm.pat) {
                self.found.err_arms.insert(id);
            }
            if is_variant(&arm.pat) {
                self.found.variant_arms.insert(id);
            }
            let found = pattern_found(&arm.pat);
            let exits = self.found.early_returns.len();
            let arm_start = self.found.ops.len();
            self.branch_when(group, found, |this| {
                this.visit_arm(arm);
                this.arm_ends_with(outcome_of(&arm.body));
            });
            if is_err_pattern(&arm.pat) {
                self.recovered_by_reading(start..reads, arm_start..self.found.ops.len());
            }
            let exited = self.found.early_returns[exits..].iter().any(|exit| {
                exit.path.last() == Some(&id) && exit.path.len() == self.path.len() + 1
            });
            if !exited {
                goes_on = true;
                only_found_goes_on &= binds_row(&arm.pat);
            }
        }
        // `match read { Ok(Some(row)) if .. => {}, Ok(_) => return, Err(_) => return }`:
        // what comes after runs with the row the read made here found.
        if goes_on && only_found_goes_on {
            let after = self.order;
            let mut required = self.one_row_reads(start..reads);
            // (Also on a variable holding what a read gave: `let found = read(..).await?;
            // let found = match found { Some(f) => f, None => return Err(..) };`.)
            if let Expr::Path(path) = strip_awaits(&node.expr)
                && let Some(name) = path.path.get_ident()
                && let Some(held) = self.read_into.get(&name.to_string())
            {
                for &order in held {
                    if !required.contains(&order) {
                        required.push(order);
                    }
                }
            }
            self.found
                .required
                .extend(required.into_iter().map(|read| (read, after)));
        }
        self.pending_lists.clear();
        self.pending_looks.clear();
    }

    fn visit_local(&mut self, node: &'ast syn::Local) {
        // `let .. else { return }`: the else block is a branch.
        if let Some(init) = &node.init {
            let start = self.found.ops.len();
            self.visit_expr(&init.expr);
            // `let found = if let Some(key) = key { read(key) } else { None };`: what a
            // read inside the initializer found is the binding's, at the `let`'s place.
            // (An exit on another branch of the initializer, `else { return Err(..) }`, is
            // still not decided by it: its condition does not look at the read.)
            // So is the row count of an update on each arm (`let rows = if let Some(t) =
            // thread { update(..t..) } else { update(..) }; if rows == 0 { insert }`). Both
            // only in an initializer that inserts nothing: a read or an update beside an
            // insert there is on that insert's arm or another arm of it (`let response =
            // match request { Check { .. } => read, Create { .. } => insert }`), and stays
            // where it is.
            let inserts = self.found.ops[start..]
                .iter()
                .any(|op| op.kind == Kind::Insert);
            for op in &mut self.found.ops[start..] {
                let moved = matches!(op.kind, Kind::Read | Kind::Update) && !inserts;
                if moved && op.path.len() > self.path.len() {
                    op.written_in = Some(std::mem::replace(&mut op.path, self.path.clone()));
                }
            }
            let looks = self.looks_in(&init.expr, start);
            let found = init
                .diverge
                .as_ref()
                .and_then(|_| pattern_found(strip_type(&node.pat)).map(|f| !f));
            // `let Some(row) = read else { return .. }`, `let row = read.ok_or(..)?`: the
            // row is required (not by `let Ok(row) = .. else`, whose `row` may be `None`).
            let binds = init.diverge.is_some() && binds_row(strip_type(&node.pat));
            let required = if binds || requires_row(&init.expr) {
                self.one_row_reads(start..self.found.ops.len())
            } else {
                Vec::new()
            };
            if let Some((_, diverge)) = &init.diverge {
                // `let Some(row) = read else { .. }`: the `else` is taken when it found none.
                let group = self.ids + 1;
                self.pending_looks.clone_from(&looks);
                self.branch_when(group, found, |this| {
                    this.visit_expr(diverge);
                    let outcome = outcome_of(diverge);
                    this.early_exit(outcome);
                });
                self.pending_looks.clear();
            }
            let after = self.order;
            self.found
                .required
                .extend(required.into_iter().map(|read| (read, after)));
            self.bind_values(&node.pat, &looks);
            // `let existing = t::table..load(conn)?`, and values made from it; each name of
            // a tuple (`let (rows, total) = paginated(..)?`).
            let mut names = Vec::new();
            pattern_idents(&node.pat, &mut names);
            if !names.is_empty() {
                // (A helper may read several lists: `toolchain.targets`, `.components`.)
                let mut lists: Vec<usize> = self.found.ops[start..]
                    .iter()
                    .filter(|op| op.kind == Kind::Read && op.rows != Rows::One)
                    .map(|op| op.order)
                    .collect();
                let mut missing = false;
                if lists.is_empty() {
                    lists = self.lists_in(&init.expr);
                    missing = !lists.is_empty()
                        && (keeps_missing(&init.expr) || self.lacks_from_list(&init.expr));
                }
                for name in names {
                    if missing {
                        self.derived_lists.insert(name.clone());
                    } else {
                        self.derived_lists.remove(&name);
                    }
                    if !lists.is_empty() {
                        self.lists.insert(name, lists.clone());
                    }
                }
            }
            if let syn::Pat::Ident(binding) = strip_type(&node.pat) {
                self.bind_model(&binding.ident.to_string(), &node.pat, &init.expr);
                self.bind_insert_result(&binding.ident.to_string(), &init.expr, start);
                self.bind_query(&binding.ident.to_string(), &init.expr);
                self.bind_builder(&binding.ident.to_string(), &init.expr);
                self.bind_sql(&binding.ident.to_string(), &init.expr, start);
                if let Some(ty) = self
                    .made_by(&init.expr)
                    .or_else(|| type_of_let(&node.pat, &init.expr))
                {
                    self.types.insert(binding.ident.to_string(), ty);
                }
                let made = makes_value(&init.expr);
                if made {
                    self.fresh.insert(binding.ident.to_string());
                }
                if super::index::takes_mutex_guard(&init.expr) {
                    self.guards.insert(binding.ident.to_string());
                } else {
                    self.guards.remove(&binding.ident.to_string());
                }
                let found = self.one_row_reads(start..self.found.ops.len());
                self.bind_read(&binding.ident.to_string(), &found);
                if made && !found.is_empty() {
                    self.found_or_made.insert(binding.ident.to_string(), found);
                } else {
                    self.found_or_made.remove(&binding.ident.to_string());
                }
                if let Expr::MethodCall(call) = strip_awaits(&init.expr)
                    && (call.method == "is_none" || call.method == "is_empty")
                {
                    self.absent_flags.insert(binding.ident.to_string());
                }
            }
        }
    }

    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        let start = self.found.ops.len();
        syn::visit::visit_expr_assign(self, node);
        // `exists = true;` on an arm that looked at a read, `found = read(..)`.
        if let Expr::Path(path) = &*node.left
            && let Some(name) = path.path.get_ident()
        {
            let mut looks = self.looks_in(&node.right, start);
            let enclosing = self.enclosing_looks();
            // (Only a value the read was given: `depth = parent.depth + 1` after reading
            // the parent row decides nothing of the insert's key.)
            let probed = enclosing.iter().filter(|order| {
                self.read_args
                    .get(order)
                    .is_some_and(|args| args.iter().any(|arg| name == arg))
            });
            let probed: Vec<usize> = probed.copied().collect();
            if !probed.is_empty() {
                self.altered
                    .entry(name.to_string())
                    .or_default()
                    .extend(probed);
            }
            for order in enclosing {
                if !looks.contains(&order) {
                    looks.push(order);
                }
            }
            if !looks.is_empty() {
                self.values
                    .entry(name.to_string())
                    .or_default()
                    .extend(looks);
            }
        }
    }

    fn visit_pat_tuple_struct(&mut self, node: &'ast syn::PatTupleStruct) {
        // `Some(SqlErr::UniqueConstraintViolation(_)) => ..` in a `match` on the error.
        if node
            .path
            .segments
            .last()
            .is_some_and(|last| UNIQUE_VIOLATIONS.contains(&last.ident.to_string().as_str()))
        {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
        }
        syn::visit::visit_pat_tuple_struct(self, node);
    }

    fn visit_expr_return(&mut self, node: &'ast syn::ExprReturn) {
        if let Some(value) = &node.expr {
            self.visit_expr(value);
        }
        self.early_exit(node.expr.as_deref().map_or(Outcome::Nothing, outcome_of));
    }

    fn visit_expr_try(&mut self, node: &'ast syn::ExprTry) {
        let start = self.found.ops.len();
        self.visit_expr(&node.expr);
        // `found.is_none().then_some(())?` in a function returning `Option`, or
        // `ensure_free(&email)?` on a helper that returns `Err` when the row exists: the `?`
        // returns early on one outcome of the read, a branch of its own.
        let checked = self.checks(&node.expr);
        if decides(&node.expr) || checked {
            self.ids += 1;
            let looks = self.looks_in(&node.expr, start);
            if !looks.is_empty() {
                self.found.looks_at.insert(self.ids, looks);
            }
            self.path.push(self.ids);
            self.early_exit(if checked {
                Outcome::Error
            } else {
                Outcome::Nothing
            });
            self.path.pop();
        }
    }

    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.visit_expr(&node.expr);
        // `for key in wanted.iter().filter(|k| !existing.contains(*k)) { insert }`: the
        // body runs for the keys a closure of the iterator looked up in a list read
        // before, a condition like `if !existing.contains(key)`. (A loop over the rows
        // read, `for row in existing`, looks into nothing.)
        let lists = self.lists_in_closures(&node.expr);
        // `for used in used_proofs { if proofs.contains(&used) { return Err(..) } }`: the
        // loop's variable is a row of the list, and a condition on it looks into the list.
        let rows_of = self.lists_in(&node.expr);
        if !rows_of.is_empty() {
            let mut idents = Vec::new();
            pattern_idents(&node.pat, &mut idents);
            for name in idents {
                self.lists.insert(name, rows_of.clone());
            }
        }
        if lists.is_empty() {
            self.visit_pat(&node.pat);
            self.loop_body(|this| this.visit_block(&node.body));
            return;
        }
        self.pending_lists.clone_from(&lists);
        self.pending_looks = lists;
        self.branch(|this| {
            this.visit_pat(&node.pat);
            this.loop_body(|this| this.visit_block(&node.body));
        });
        self.pending_lists.clear();
        self.pending_looks.clear();
    }

    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        // `while is_username_taken(&name, &mut tx).await? { name = random(); }` then the
        // insert: the loop goes round while the read finds its row, and the code after it
        // runs when it found none, as after `if taken { return }`.
        let start = self.found.ops.len();
        self.visit_expr(&node.cond);
        let looks = if matches!(&*node.cond, Expr::Let(_)) {
            Vec::new()
        } else {
            self.looks_in(&node.cond, start)
        };
        if looks.is_empty() {
            self.loop_body(|this| this.visit_block(&node.body));
            return;
        }
        let found = found_when(&node.cond).map(|f| f != self.names_absent(&node.cond));
        self.pending_looks = looks;
        self.branch_when(self.ids + 1, Some(found.unwrap_or(true)), |this| {
            this.loop_body(|this| this.visit_block(&node.body));
            this.early_exit(Outcome::Nothing);
        });
        self.pending_looks.clear();
    }

    fn visit_expr_continue(&mut self, node: &'ast syn::ExprContinue) {
        self.loop_exit(node.label.is_none());
    }

    fn visit_expr_break(&mut self, node: &'ast syn::ExprBreak) {
        if let Some(value) = &node.expr {
            self.visit_expr(value);
        }
        self.loop_exit(node.label.is_none());
    }

    fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
        self.loop_body(|this| syn::visit::visit_expr_loop(this, node));
    }

    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {
        // A nested function is a function of its own.
    }

    fn visit_lit_str(&mut self, node: &'ast syn::LitStr) {
        let text = node.value();
        self.note_safety(&text);
        self.push_sql(&text, node.span());
    }

    fn visit_lit_int(&mut self, node: &'ast syn::LitInt) {
        // MySQL's duplicate-entry error number, compared against.
        if node.base10_digits() == "1062" {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
        }
    }

    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        if let Some(last) = node.path.segments.last() {
            let name = last.ident.to_string();
            if UNIQUE_VIOLATIONS.contains(&name.as_str()) || self.index.handlers.contains(&name) {
                self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
            }
            // SQL kept in a `const` and used here.
            if let Some(sql) = self.index.consts.get(&name).cloned() {
                self.note_safety(&sql);
                self.push_sql(&sql, last.ident.span());
            }
        }
        syn::visit::visit_expr_path(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        // `matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))`: a pattern
        // in a macro, which does not parse as an expression.
        if names_unique_violation(node.tokens.clone()) {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
        }
        // The crate's own macro: its expansion, as a block; and, where the expansion did
        // not take them all (a rule this matcher reads only in part), the blocks passed in.
        if self.macros.knows(node) {
            for block in &brace_blocks(node.tokens.clone()) {
                self.visit_block(block);
            }
            if let Some(tokens) = self.macros.expand(node)
                && let Ok(block) = syn::parse2::<syn::Block>(
                    TokenTree::Group(proc_macro2::Group::new(
                        proc_macro2::Delimiter::Brace,
                        tokens,
                    ))
                    .into(),
                )
            {
                // One level: a macro that calls itself is not expanded again.
                let macros = std::mem::take(&mut self.macros);
                self.visit_block(&block);
                self.macros = macros;
            }
            return;
        }
        if error_macro(node) {
            // `err!("already exists")`: returns an error.
            self.early_exit(Outcome::Error);
            return;
        }
        // `query!("..", a)`, `format!`-built SQL: Rust expressions. `db_run! { conn: { .. } }`
        // and other macros of the codebase: their blocks, parsed as Rust.
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = syn::parse::Parser::parse2(parser, node.tokens.clone()) {
            let start = self.found.ops.len();
            for expr in &exprs {
                self.visit_expr(expr);
            }
            self.note_values(start, |names| {
                exprs.iter().for_each(|expr| names.visit_expr(expr));
            });
            return;
        }
        let blocks = brace_blocks(node.tokens.clone());
        if blocks.is_empty() {
            for literal in string_literals(node.tokens.clone()) {
                self.note_safety(&literal.0);
                self.push_sql(&literal.0, literal.1);
            }
        }
        for block in &blocks {
            self.visit_block(block);
        }
    }

    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        // `error.status_code == StatusCode::CONFLICT`: a test for the 409 an insert's unique
        // violation was mapped to (a function that makes one does not compare it).
        let conflict = |expr: &Expr| {
            matches!(expr, Expr::Path(path)
                if path.path.segments.last().is_some_and(|s| s.ident == "CONFLICT"))
        };
        if matches!(node.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_))
            && (conflict(&node.left) || conflict(&node.right))
        {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
        }
        syn::visit::visit_expr_binary(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
        let start = self.found.ops.len();
        self.method_call(node);
        self.write_locked(&node.method, start);
        self.feed_missing(node.args.iter(), start);
        self.note_values(start, |names| names.visit_expr_method_call(node));
        // What a `static` cell's initialiser does runs once in the process, as if under a
        // lock (`APPSERVICES.get_or_init(|| async { .. })`).
        if super::callers::once_per_process(node) {
            let orders = self.found.ops[start..].iter().map(|op| op.order);
            self.found.locked_ops.extend(orders);
        }
        if let Expr::Path(path) = &*node.receiver
            && let Some(name) = path.path.get_ident()
        {
            let name = name.to_string();
            if self.guards.contains(&name) {
                let orders = self.found.ops[start..].iter().map(|op| op.order);
                self.found.locked_ops.extend(orders);
            }
            // `row.save(conn)` on the row a read found or a value made in its place.
            if let Some(reads) = self.found_or_made.get(&name) {
                self.found.feed(start, reads);
            }
            // `errors.add(..)` on an arm that looked at a read: `if !errors.is_empty()`
            // later looks at it too.
            let looks = self.enclosing_looks();
            if !looks.is_empty() && name != "self" {
                let held = self.values.entry(name).or_default();
                for order in looks {
                    if !held.contains(&order) {
                        held.push(order);
                    }
                }
            }
        }
        if node.method == "map_err" {
            let mapped = self.found.ops[start..]
                .iter()
                .filter(|op| op.kind == Kind::Insert)
                .map(|op| op.order);
            self.found.mapped.extend(mapped);
        }
    }
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        self.answered_as_bool(node);
        self.run_sql_var(node);
        let start = self.found.ops.len();
        self.call(node);
        self.feed_missing(node.args.iter(), start);
        self.note_values(start, |names| names.visit_expr_call(node));
        if let Expr::Path(path) = &*node.func
            && let Some(last) = path.path.segments.last()
        {
            self.write_locked(&last.ident, start);
        }
    }
}

impl Collector {
    /// After a call or a macro that made the operations from `start` on: the variables its
    /// reads were given ([`Collector::read_args`]), and its inserts of a value a read's
    /// arm changed ([`Collector::altered`]: `query!("INSERT ..", slug)`), fed by that read.
    fn note_values(&mut self, start: usize, visit: impl FnOnce(&mut HeldNames<'_>)) {
        if self.found.ops.len() == start {
            return;
        }
        let mut names = HeldNames(&self.altered, Vec::new(), Some(Vec::new()));
        visit(&mut names);
        let HeldNames(_, altered, idents) = names;
        let idents = idents.unwrap_or_default();
        for op in &self.found.ops[start..] {
            if op.kind == Kind::Read {
                self.read_args
                    .entry(op.order)
                    .or_default()
                    .extend(idents.iter().cloned());
            }
        }
        self.found.feed(start, &altered);
    }

    /// `let query = r#"INSERT .."#;` (its statement the one op from `start`): the
    /// variable holds that statement ([`Collector::sql_vars`]); any other value, none.
    fn bind_sql(&mut self, name: &str, init: &Expr, start: usize) {
        if matches!(
            init,
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(_),
                ..
            })
        ) && self.found.ops.len() == start + 1
        {
            self.sql_vars.insert(name.to_owned(), start);
        } else {
            self.sql_vars.remove(name);
        }
    }

    /// `diesel::sql_query(query)`, `sqlx::query(&query)` of a SQL string bound earlier
    /// ([`Collector::sql_vars`]): its statement is reported at this call.
    fn run_sql_var(&mut self, node: &syn::ExprCall) {
        let Expr::Path(function) = &*node.func else {
            return;
        };
        let Some(last) = function.path.segments.last() else {
            return;
        };
        let runs = matches!(
            last.ident.to_string().as_str(),
            "sql_query" | "query" | "query_as" | "query_scalar" | "query_with" | "query_as_with"
        );
        let mut arg = match node.args.first() {
            Some(arg) if runs => arg,
            _ => return,
        };
        while let Expr::Reference(inner) = arg {
            arg = &inner.expr;
        }
        if let Expr::Path(path) = arg
            && let Some(name) = path.path.get_ident()
            && let Some(&at) = self.sql_vars.get(&name.to_string())
            && let Some(op) = self.found.ops.get_mut(at)
        {
            op.line = last.ident.span().start().line;
        }
    }

    /// A call: a Diesel statement, a read through `exists(..)`, or a helper of the crate.
    fn call(&mut self, node: &syn::ExprCall) {
        if let Some(op) = diesel_insert(node) {
            self.push(op);
        } else if let Some(op) = diesel_update(node) {
            self.push(op);
        } else if let Some(op) = diesel_delete(node) {
            self.push(op);
        } else if let Some((op, negated)) = diesel_exists(node, &self.queries) {
            self.push(op);
            if negated {
                self.negated = Some(self.order);
            }
            return;
        } else if let Expr::Path(function) = &*node.func
            && let Some(name) = function.path.segments.last()
        {
            let owner = match path_owner(&function.path) {
                Some(owner) if owner == "Self" => self.owner.clone(),
                other => other,
            };
            self.note_called(&name.ident.to_string(), owner.as_deref(), false);
            // The arguments run before the call.
            for arg in &node.args {
                self.visit_expr(arg);
            }
            let owner = path_owner(&function.path);
            let segments = &function.path.segments;
            let module = (segments.len() >= 2)
                .then(|| segments[segments.len() - 2].ident.to_string())
                .filter(|m| m.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
            // `Type::name(..)` names its type: one the crate defines no `name` for runs
            // none of the crate's functions (`Response::from(..)` of a derive).
            // (A path from a module imported or declared here, `mods::create(..)`, not
            // `crate::..` or `self::..`, never names the calling file's own function.)
            let imported = segments.first().is_some_and(|first| {
                !["crate", "self", "super"].contains(&first.ident.to_string().as_str())
            });
            let call = Call {
                method: false,
                owner: owner.as_deref(),
                module: module.as_deref().map(|name| ModulePath { name, imported }),
                on_field: false,
                known: owner
                    .as_deref()
                    .is_some_and(|o| o != "Self" || self.owner.is_some()),
            };
            self.call_table = self.generic_table(name, &node.args);
            self.helper_call(&name.ident, &call);
            self.call_table = None;
            return;
        }
        syn::visit::visit_expr_call(self, node);
    }

    /// A statement of a query builder over sqlx that takes the row type's table name
    /// (`SelectQueryBuilder::with_columns(DBProject::table_name(), ..)..fetch_optional(db)`,
    /// `InsertQueryBuilder::new(DBProject::table_name())..fetch_one(db)`), read from the
    /// outermost call of its chain: the table is the row struct's `#[table(name = ..)]`.
    fn builder_statement(&self, node: &ExprMethodCall) -> Option<Op> {
        let (methods, root, _) = chain(node);
        let (builder, table, line) = match root {
            Expr::Call(call) => {
                let (builder, table) = self.builder_made(call)?;
                let line = match &*call.func {
                    Expr::Path(function) => function.path.segments.last(),
                    _ => None,
                }
                .map_or(node.method.span().start().line, |s| {
                    s.ident.span().start().line
                });
                (builder, table, line)
            }
            // `let mut query_builder = InsertQueryBuilder::new("users"); ..
            // query_builder.execute(&mut **tx)`: the variable's builder, at the call that
            // runs it.
            Expr::Path(path) => {
                let (builder, table) = self.builders.get(&path.path.get_ident()?.to_string())?;
                (
                    builder.clone(),
                    table.clone(),
                    node.method.span().start().line,
                )
            }
            _ => return None,
        };
        let fetched = |names: &[&str]| methods.iter().any(|m| names.contains(&m.as_str()));
        let op = if builder.starts_with("Select") && fetched(&["fetch_optional", "fetch_one"]) {
            Op::new(Kind::Read, Api::Sqlx, table, line)
        } else if builder.starts_with("Select") && fetched(&["fetch_all", "fetch"]) {
            Op {
                rows: Rows::Many,
                ..Op::new(Kind::Read, Api::Sqlx, table, line)
            }
        } else if builder.starts_with("Insert")
            && fetched(&["fetch_one", "fetch_optional", "execute"])
        {
            Op {
                guarded: methods.iter().any(|m| m.starts_with("on_conflict")),
                ..Op::new(Kind::Insert, Api::Sqlx, table, line)
            }
        } else {
            return None;
        };
        Some(op)
    }

    /// `let query = users::table.filter(..);`: a later `query.first(conn)` reads. So does
    /// one a function of the crate makes (`let query = Self::query();`).
    fn bind_query(&mut self, name: &str, init: &Expr) {
        if let Some(source) =
            query_source(init, &self.index.aliases).or_else(|| self.made_query_of(init))
        {
            self.queries.insert(name.to_owned(), source);
        }
    }

    /// The Diesel query one of the crate's query makers makes, when `init` calls one
    /// (`Self::query()`, `Profile::query()`, `query()`).
    fn made_query_of(&self, init: &Expr) -> Option<Source> {
        let made = self.index.query_makers.get(&self.called(init)?)?;
        Some(Source {
            api: Api::Diesel,
            table: made.table.clone(),
            keys: made.keys.clone(),
            joined: made.joined.clone(),
        })
    }

    /// The function `init` calls, as the index names it: `Type::name` (`Self` as the
    /// `impl`'s type), or `name`.
    fn called(&self, init: &Expr) -> Option<String> {
        let Expr::Call(call) = strip_awaits(init) else {
            return None;
        };
        let Expr::Path(function) = &*call.func else {
            return None;
        };
        let name = function.path.segments.last()?.ident.to_string();
        Some(match path_owner(&function.path).as_deref() {
            Some("Self") => format!("{}::{name}", self.owner.as_deref()?),
            Some(owner) => format!("{owner}::{name}"),
            None => name,
        })
    }

    /// The type one of the crate's functions without `self` returns, when `init` calls
    /// one (`Self::repo()`, `Repos::episodes()`, `repo()`, `EventUser::create(..)`).
    fn made_by(&self, init: &Expr) -> Option<String> {
        self.index.makers.get(&self.called(init)?).cloned()
    }

    /// `let mut query_builder = InsertQueryBuilder::new("users");`: the variable holds
    /// that builder (any other value: none).
    fn bind_builder(&mut self, name: &str, init: &Expr) {
        if let Expr::Call(call) = init
            && let Some(made) = self.builder_made(call)
        {
            self.builders.insert(name.to_owned(), made);
        } else {
            self.builders.remove(name);
        }
    }

    /// The builder and table of a query builder's constructor that names the table: the
    /// row type's (`InsertQueryBuilder::new(DBProject::table_name())`, by its `#[table(name
    /// = ..)]`) or a string (`InsertQueryBuilder::new("users")`).
    fn builder_made(&self, call: &syn::ExprCall) -> Option<(String, String)> {
        let Expr::Path(function) = &*call.func else {
            return None;
        };
        let builder = match segments(&function.path).as_slice() {
            [.., builder, _] if builder.ends_with("QueryBuilder") => builder.clone(),
            _ => return None,
        };
        let table = match call.args.first()? {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(table),
                ..
            }) => table.value(),
            Expr::Call(name) => {
                let Expr::Path(name) = &*name.func else {
                    return None;
                };
                let row = match segments(&name.path).as_slice() {
                    [.., row, method] if method == "table_name" => row.clone(),
                    _ => return None,
                };
                self.index.diesel_tables.get(&row).cloned().unwrap_or(row)
            }
            _ => return None,
        };
        Some((builder, table))
    }

    /// The table a call names for a generic helper's type parameter: a type in its
    /// turbofish (`::<<Config as HasTable>::Table, _, Config>`, `::<users::table, ..>`) or
    /// the type of a value it passes (`generic_insert(&db, config)`), by the struct's
    /// `#[diesel(table_name)]`; [`GENERIC_TABLE`] for one of this function's own type
    /// parameters (a generic helper calling another).
    fn generic_table(
        &self,
        segment: &syn::PathSegment,
        args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
    ) -> Option<String> {
        let known = |name: &str| {
            if let Some(table) = self.index.diesel_tables.get(name) {
                Some(table.clone())
            } else if self.generics.contains(name) {
                Some(GENERIC_TABLE.to_owned())
            } else {
                None
            }
        };
        if let syn::PathArguments::AngleBracketed(generic) = &segment.arguments {
            for arg in &generic.args {
                if let syn::GenericArgument::Type(ty) = arg {
                    let names = super::type_names(ty);
                    // `users::table`: the module names the table.
                    if let [.., table, last] = names.as_slice()
                        && last == "table"
                    {
                        return Some(table.clone());
                    }
                    if let Some(table) = names.iter().find_map(|n| known(n)) {
                        return Some(table);
                    }
                }
            }
        }
        args.iter().find_map(|arg| {
            let mut arg = arg;
            while let Expr::Reference(inner) = arg {
                arg = &inner.expr;
            }
            match arg {
                Expr::Path(path) => path
                    .path
                    .get_ident()
                    .and_then(|var| self.types.get(&var.to_string()))
                    .and_then(|ty| known(ty)),
                Expr::Struct(literal) => literal
                    .path
                    .segments
                    .last()
                    .and_then(|s| known(&s.ident.to_string())),
                _ => None,
            }
        })
    }

    /// Whether an expression takes from a set what a list read lacks:
    /// `wanted.difference(&present)` with `present` made from the read (not
    /// `present.difference(&wanted)`, what the read has that is not wanted).
    fn lacks_from_list(&self, expr: &Expr) -> bool {
        struct Difference<'a>(&'a Collector, bool);
        impl<'ast> Visit<'ast> for Difference<'_> {
            fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
                if node.method == "difference"
                    && let Some(arg) = node.args.first()
                {
                    self.1 |= !self.0.lists_in(arg).is_empty()
                        && self.0.lists_in(&node.receiver).is_empty();
                }
                syn::visit::visit_expr_method_call(self, node);
            }
        }
        let mut difference = Difference(self, false);
        difference.visit_expr(expr);
        difference.1
    }

    /// The inserts since `start` of a call given what a list read lacks (`add(to_add)`):
    /// they are decided by that read, whatever the condition around them.
    fn feed_missing<'e>(&mut self, args: impl Iterator<Item = &'e Expr>, start: usize) {
        let mut reads = Vec::new();
        for arg in args {
            let mut arg = arg;
            loop {
                match arg {
                    Expr::Reference(inner) => arg = &inner.expr,
                    Expr::MethodCall(call) if call.args.is_empty() => arg = &call.receiver,
                    _ => break,
                }
            }
            if let Expr::Path(path) = arg
                && let Some(name) = path.path.get_ident().map(ToString::to_string)
                && self.derived_lists.contains(&name)
                && let Some(lists) = self.lists.get(&name)
            {
                reads.extend(lists.iter().copied());
            }
        }
        if !reads.is_empty() {
            self.found.feed(start, &reads);
        }
    }

    /// Whether a condition tests what a list read lacks (`!missing.is_empty()`).
    fn on_derived_list(&self, cond: &Expr) -> bool {
        match cond {
            Expr::Unary(unary) => self.on_derived_list(&unary.expr),
            Expr::Paren(inner) => self.on_derived_list(&inner.expr),
            Expr::MethodCall(call) => self.on_derived_list(&call.receiver),
            Expr::Path(path) => path
                .path
                .get_ident()
                .is_some_and(|name| self.derived_lists.contains(&name.to_string())),
            _ => false,
        }
    }

    /// Whether a condition is a variable holding "found nothing" (or its negation, by
    /// [`found_when`]'s `!`).
    fn names_absent(&self, cond: &Expr) -> bool {
        match cond {
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
                self.names_absent(&unary.expr)
            }
            Expr::Paren(inner) => self.names_absent(&inner.expr),
            Expr::Path(path) => path
                .path
                .get_ident()
                .is_some_and(|name| self.absent_flags.contains(&name.to_string())),
            // A call of the crate's test of absence (`is_email_unique(..).await?`).
            Expr::Await(inner) => self.names_absent(&inner.base),
            Expr::Try(inner) => self.names_absent(&inner.expr),
            Expr::Call(call) => {
                match &*call.func {
                    Expr::Path(function) => function.path.segments.last().is_some_and(|last| {
                        self.index.absence_tests.contains(&last.ident.to_string())
                    }),
                    _ => false,
                }
            }
            Expr::MethodCall(call) => self.index.absence_tests.contains(&call.method.to_string()),
            _ => false,
        }
    }

    /// After a call named `name` whose operations start at `start`: a transaction that
    /// takes SQLite's write lock at `BEGIN` (`conn.immediate_transaction(|c| ..)`, or the
    /// crate's function wrapping one) runs its closure one writer at a time, so a read in
    /// it decides nothing another writer can undo, as under `FOR UPDATE`. (A read before
    /// it, on another connection, still races the insert in it.)
    fn write_locked(&mut self, name: &syn::Ident, start: usize) {
        let name = name.to_string();
        if super::callers::WRITE_LOCKING.contains(&name.as_str())
            || self.index.write_lockers.contains(&name)
        {
            for op in &mut self.found.ops[start..] {
                op.guarded |= op.kind == Kind::Read;
            }
        }
    }

    /// Marks the inserts among `inserts` (positions in the function's list) whose failure
    /// the operations `arm` (an `Err(..)` arm) answer by reading their table again: the
    /// loser of the race takes the winner's row (`if let Err(e) = model.insert(db) {
    /// match find(oid) { Some(row) => .., None => return Err(e) } }`), as an `ON CONFLICT`
    /// would.
    fn recovered_by_reading(
        &mut self,
        inserts: std::ops::Range<usize>,
        arm: std::ops::Range<usize>,
    ) {
        let reread: Vec<String> = self.found.ops[arm]
            .iter()
            .filter(|op| op.kind == Kind::Read && op.rows == Rows::One && !op.joined)
            .map(|op| op.table.to_ascii_lowercase())
            .collect();
        for op in &mut self.found.ops[inserts] {
            if op.kind == Kind::Insert && reread.contains(&op.table.to_ascii_lowercase()) {
                op.guarded = true;
            }
        }
    }

    /// `Ok(res.is_ok())` on an insert's result bound earlier: its failure is a `bool`
    /// handed back as a success, a duplicate answered "not inserted", as `ON CONFLICT DO
    /// NOTHING` would (not `match res.is_ok() { false => Err(..), .. }`, which fails).
    fn answered_as_bool(&mut self, node: &syn::ExprCall) {
        let Expr::Path(function) = &*node.func else {
            return;
        };
        if !function.path.is_ident("Ok") {
            return;
        }
        if let Some(Expr::MethodCall(test)) = node.args.first()
            && (test.method == "is_ok" || test.method == "is_err")
            && let Expr::Path(path) = &*test.receiver
            && let Some(name) = path.path.get_ident()
            && let Some(inserts) = self.insert_results.get(&name.to_string())
        {
            for &at in inserts {
                self.found.ops[at].guarded = true;
            }
        }
    }

    /// Notes an insert's result bound to `name` without `?` (`let res =
    /// Entity::insert(..).exec(db).await;`): made by the operations since `start`.
    fn bind_insert_result(&mut self, name: &str, init: &Expr, start: usize) {
        let inserts: Vec<usize> = (start..self.found.ops.len())
            .filter(|&at| self.found.ops[at].kind == Kind::Insert)
            .collect();
        if !inserts.is_empty() && !matches!(init, Expr::Try(_)) {
            self.insert_results.insert(name.to_owned(), inserts);
        } else {
            self.insert_results.remove(name);
        }
    }

    /// Notes a `SeaORM` model a `let` binds to `name`: an `ActiveModel` (`let model =
    /// user::ActiveModel { .. };`, a later `model.insert(db)` inserts), or a `Model` made
    /// here (see [`Collector::model_value`]).
    fn bind_model(&mut self, name: &str, pat: &syn::Pat, init: &Expr) {
        if let Some(table) = active_model_table(init)
            .or_else(|| typed_model(pat))
            .or_else(|| self.converted_model(init))
            .or_else(|| self.aliased_active_model(init))
            .or_else(|| self.built_model(init))
        {
            self.models.insert(name.to_owned(), table);
        } else {
            self.models.remove(name);
        }
        if let Some(table) = self.model_value(init) {
            self.made_models.insert(name.to_owned(), table);
        } else {
            self.made_models.remove(name);
        }
    }

    /// The table of an `ActiveModel` type imported under another name (`model:
    /// UserIdpActiveModel` after `use entity::user_idp::ActiveModel as
    /// UserIdpActiveModel;`).
    fn aliased_model_type(&self, ty: &syn::Type) -> Option<String> {
        let syn::Type::Path(path) = ty else {
            return None;
        };
        let name = path.path.get_ident()?.to_string();
        if !name.ends_with("ActiveModel") {
            return None;
        }
        self.index.aliases.get(&name).cloned()
    }

    /// The table of the `ActiveModel` a function of the crate builds
    /// ([`super::index::Index::model_builders`]): `membership.build(&account)?` on a
    /// variable of a known type, `CreateMembership::build(..)`, `Self::build(..)`.
    fn built_model(&self, init: &Expr) -> Option<String> {
        let key = match strip_awaits(init) {
            Expr::MethodCall(call) => {
                format!("{}::{}", self.receiver_type(&call.receiver)?, call.method)
            }
            _ => self.called(init)?,
        };
        let (table, file) = self.index.model_builders.get(&key)?;
        if table == "entity" {
            self.index.entity_of_file(*file)
        } else {
            Some(table.clone())
        }
    }

    /// The table of an `ActiveModel` imported under another name and made here (`use
    /// models::routing::ActiveModel as RoutingActiveModel;` .. `RoutingActiveModel { .. }`,
    /// `RoutingActiveModel::new()`).
    fn aliased_active_model(&self, init: &Expr) -> Option<String> {
        match made_model(init)?.as_slice() {
            [alias] => self.index.aliases.get(alias).cloned(),
            _ => None,
        }
    }

    /// The table of a `SeaORM` `Model` value made here: a constructor of the entity's
    /// model (`bot_installations::Model::new(..)`), or a variable holding one.
    fn model_value(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Call(call) => match &*call.func {
                Expr::Path(function) => match segments(&function.path).as_slice() {
                    [.., table, model, _] if model == "Model" => Some(table.clone()),
                    _ => None,
                },
                _ => None,
            },
            Expr::Path(path) => path
                .path
                .get_ident()
                .and_then(|name| self.made_models.get(&name.to_string()))
                .cloned(),
            _ => None,
        }
    }

    /// The table of the `ActiveModel` a model made here converts into
    /// (`model.into_active_model()`, `Model::new(..).into_active_model()`).
    fn converted_model(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::MethodCall(call) if call.method == "into_active_model" => {
                self.model_value(&call.receiver)
            }
            _ => None,
        }
    }

    /// The reads of one row among the operations `ops` (positions in the function's
    /// list), by order.
    fn one_row_reads(&self, ops: std::ops::Range<usize>) -> Vec<usize> {
        self.found.ops[ops]
            .iter()
            .filter(|op| op.kind == Kind::Read && op.rows == Rows::One)
            .map(|op| op.order)
            .collect()
    }

    /// A method call: a read, a write, a branch adapter, or a helper of the crate.
    fn method_call(&mut self, node: &ExprMethodCall) {
        let method = node.method.to_string();
        self.note_called(&method, None, true);

        // `read.then_some(()).ok_or(TakenError)`: an error on one outcome of the read, as
        // the function's value (a validation helper without an `if`).
        if matches!(method.as_str(), "ok_or" | "ok_or_else")
            && chain(node)
                .0
                .iter()
                .any(|m| m == "then_some" || m == "then")
        {
            let before = self.order;
            let start = self.found.ops.len();
            self.visit_expr(&node.receiver);
            // The error is for `None`: when the read is false. `exists(..)` is false when
            // the row is missing, `not(exists(..))` when it is found.
            let found = self.negated.is_some_and(|at| at > before);
            self.pending_looks = self.looks_in(&node.receiver, start);
            self.branch_when(self.ids + 1, Some(found), |this| {
                for arg in &node.args {
                    this.visit_expr(arg);
                }
                this.early_exit(Outcome::Error);
            });
            self.pending_looks.clear();
            return;
        }
        if BRANCH_METHODS.contains(&method.as_str()) {
            let start = self.found.ops.len();
            self.visit_expr(&node.receiver);
            self.pending_looks = self.looks_in(&node.receiver, start);
            // (`ok_or_else`'s closure runs for `None`: a row, or a count's value, missing.)
            let found = (method == "ok_or_else").then_some(false);
            self.branch_when(self.ids + 1, found, |this| {
                for arg in &node.args {
                    this.visit_expr(arg);
                    if let Expr::Closure(closure) = arg {
                        this.arm_ends_with(outcome_of(&closure.body));
                    }
                }
            });
            self.pending_looks.clear();
            return;
        }
        if let Some(op) = self
            .builder_statement(node)
            .or_else(|| sea_query_statement(node))
        {
            self.push(op);
            return;
        }
        if let Some((mut op, joined)) = orm_read(node, &self.queries, &self.index) {
            // `Self::find()` in the entity's own `impl Entity`.
            if op.table == "self" && self.owner.as_deref() == Some("Entity") {
                "entity".clone_into(&mut op.table);
            }
            // The latest (or first) row of a table, by no key (`find().order_by_desc(
            // Column::CreatedAt).one(db)`): when the last one was made, a rate limit, not a
            // check that a row exists.
            // So is a count or a list of the rows of a window of time up to now
            // (`.filter(Column::CreatedAt.gte(now - WINDOW_SECONDS))`).
            let (methods, _, calls) = chain(node);
            let latest = (op.keys.is_empty()
                && op.rows == Rows::One
                && methods.iter().any(|m| m.starts_with("order_by")))
                || (op.rows != Rows::One && calls.iter().any(|c| since_now(c)));
            // A joined table's keys are the filters that name it
            // (`identities::subject.eq(..)`).
            self.push_read(op, joined);
            if latest {
                self.found.quotas.insert(self.order);
            }
            // The chain below is the read's own; its arguments are values.
            return;
        }
        if let Some(op) = seaorm_insert(node, &self.index.aliases)
            .or_else(|| seaorm_delete(node, &self.index.aliases))
            .or_else(|| diesel_insert_chain(node))
            .or_else(|| self.model_insert(node))
            .or_else(|| self.converted_insert(node))
        {
            self.push(op);
            return;
        }
        // The receiver and the arguments run first.
        let start = self.found.ops.len();
        self.visit_expr(&node.receiver);
        // `sqlx::query("SELECT ..").fetch_all(..)` (or a `fetch(..)` stream): the rows a
        // list holds, whatever the `WHERE` says.
        if matches!(method.as_str(), "fetch_all" | "fetch") {
            for op in &mut self.found.ops[start..] {
                if op.kind == Kind::Read && op.api == Api::Sqlx && op.rows == Rows::One {
                    op.rows = Rows::Many;
                }
            }
        }
        for arg in &node.args {
            self.visit_expr(arg);
        }
        if let Some(op) = self.seaorm_update(node) {
            self.push(op);
        }
        self.method_helper(node);
    }

    /// A method call that may be one of the crate's functions (`user.save(conn)`).
    fn method_helper(&mut self, node: &ExprMethodCall) {
        // `organization.clone().insert(..)`: a method on the value itself.
        let receiver = match &*node.receiver {
            Expr::MethodCall(copy)
                if copy.args.is_empty()
                    && (copy.method == "clone" || copy.method == "to_owned") =>
            {
                &*copy.receiver
            }
            other => other,
        };
        let owner = self.receiver_type(receiver);
        let loaded = match receiver {
            Expr::Path(path) => path
                .path
                .get_ident()
                .is_some_and(|var| !self.fresh.contains(&var.to_string())),
            // `Invitation::new(..).save(conn)`: a value made here.
            other => !makes_value(other),
        };
        // On what one of the crate's methods returns (`repo.user_email()`), or a
        // constructor of a derived type (`User::new(..)`), its type.
        let returned = matches!(receiver, Expr::MethodCall(_) | Expr::Call(_)) && owner.is_some();
        // (A variable the code declares as one of the crate's traits: `payment_processor:
        // &dyn PaymentProcessor`, not one named after a type.)
        let declared = match strip_awaits(receiver) {
            Expr::Path(path) => path.path.get_ident().is_some_and(|var| {
                self.types
                    .get(&var.to_string())
                    .is_some_and(|ty| self.index.implementors.contains_key(ty))
            }),
            _ => false,
        };
        let call = Call {
            method: true,
            owner: owner.as_deref(),
            module: None,
            on_field: on_field(receiver),
            known: (on_field(receiver) || returned || declared) && owner.is_some(),
        };
        // A derive-generated `save` on a row loaded (not made here) writes that row back:
        // an update, not the derive's insert of a new one.
        if loaded
            && owner.as_deref().is_some_and(|ty| {
                self.index
                    .derived_inserts
                    .get(ty)
                    .is_some_and(|(_, methods)| methods.contains(&node.method.to_string()))
            })
        {
            return;
        }
        // `repo.user_email()`: one of the crate's accessors, not another function of the
        // name (a resolver's `user_email(ctx, id)`).
        if node.args.is_empty() && self.index.returns.contains_key(&node.method.to_string()) {
            return;
        }
        let before = self.found.ops.len();
        // A method on what a call returns (`Request::builder().header(..)`), of a type the
        // audit cannot tell, is not taken for the crate's function of that name.
        if returned || !matches!(strip_awaits(receiver), Expr::MethodCall(_) | Expr::Call(_)) {
            self.helper_call(&node.method, &call);
        }
        if loaded {
            // `user.save(conn)` on a row the function loaded upserts it by its own key: an
            // update, not the insert of a new row whatever the earlier read was by.
            for op in &mut self.found.ops[before..] {
                op.conflict.clear();
            }
        }
    }
}

/// Whether an initializer makes a new value (`User::new(..)`, `Default::default()`, a struct
/// literal), on any of its branches.
fn makes_value(init: &Expr) -> bool {
    struct Makes(bool);
    impl<'ast> Visit<'ast> for Makes {
        fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
            if let Expr::Path(path) = &*node.func
                && path.path.segments.last().is_some_and(|last| {
                    let name = last.ident.to_string();
                    name == "new" || name == "default" || name.starts_with("new_")
                })
            {
                self.0 = true;
            }
            syn::visit::visit_expr_call(self, node);
        }
        fn visit_expr_struct(&mut self, _: &'ast syn::ExprStruct) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut makes = Makes(false);
    makes.visit_expr(init);
    makes.0
}

/// The type a `let` binds, when it shows it: an annotation, or the type whose function or
/// literal makes the value (`User::new(..)`, `match User::find(..) { .. }`, `User { .. }`).
fn type_of_let(pat: &syn::Pat, init: &Expr) -> Option<String> {
    struct First(Option<String>);
    impl<'ast> Visit<'ast> for First {
        fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
            if self.0.is_none()
                && let Expr::Path(path) = &*node.func
            {
                self.0 = path_owner(&path.path).filter(|o| o != "Self");
            }
            if self.0.is_none() {
                syn::visit::visit_expr_call(self, node);
            }
        }
        fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
            if self.0.is_none() {
                self.0 = node.path.segments.last().map(|s| s.ident.to_string());
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    if let syn::Pat::Type(typed) = pat
        && let syn::Type::Path(path) = &*typed.ty
    {
        return path.path.segments.last().map(|s| s.ident.to_string());
    }
    let mut first = First(None);
    first.visit_expr(init);
    first.0
}

impl Collector {
    /// The type of a method call's receiver, when known: `self` is the `impl`'s type, a
    /// variable the type its `let` shows, else its name in `CamelCase` (`org_user` ->
    /// `OrgUser`), which the helper table may or may not know.
    fn receiver_type(&self, receiver: &Expr) -> Option<String> {
        let mut root = receiver;
        loop {
            match root {
                Expr::Reference(inner) => root = &inner.expr,
                Expr::Paren(inner) => root = &inner.expr,
                // `self.repository`: the field's type, from the struct's definition.
                Expr::Field(field) => {
                    let syn::Member::Named(name) = &field.member else {
                        return None;
                    };
                    let base = self.receiver_type(&field.base)?;
                    return self.index.fields.get(&(base, name.to_string())).cloned();
                }
                // `User::new(..).save(&pool)`: a constructor's type, for a type whose
                // methods one of the crate's derives generates.
                Expr::Call(call) => {
                    let Expr::Path(function) = &*call.func else {
                        return None;
                    };
                    // (Or what the crate's function returns: `EventUser::create(..)
                    // .commit(conn)` is `NewEventUser::commit`.)
                    return path_owner(&function.path)
                        .filter(|ty| self.index.derived_inserts.contains_key(ty))
                        .or_else(|| self.made_by(root));
                }
                // `repo.user_email().count(..)`: what the crate's method returns.
                Expr::MethodCall(call) => {
                    return self.index.returns.get(&call.method.to_string()).cloned();
                }
                // `NewAccount { .. }.insert(conn)`: the literal's type.
                Expr::Struct(literal) => {
                    return literal
                        .path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .filter(|ty| ty != "Self")
                        .or_else(|| self.owner.clone());
                }
                _ => break,
            }
        }
        let Expr::Path(path) = root else {
            return None;
        };
        let name = path.path.get_ident()?.to_string();
        if name == "self" {
            return self.owner.clone();
        }
        self.types
            .get(&name)
            .cloned()
            .or_else(|| Some(camel(&name)))
    }
}

/// `strava_stats` -> `StravaStats`.
pub fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The type a path call names before the function (`Like` in `likes::Like::insert`), if
/// it looks like a type (or is `Self`).
fn path_owner(path: &syn::Path) -> Option<String> {
    let segments: Vec<&syn::PathSegment> = path.segments.iter().collect();
    let owner = segments
        .len()
        .checked_sub(2)
        .map(|i| segments[i].ident.to_string())?;
    owner
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then_some(owner)
}

/// The brace-delimited groups of a macro's tokens that parse as blocks, at any depth
/// (`db_run! { conn: sqlite, mysql { .. } postgresql { .. } }`).
fn brace_blocks(tokens: TokenStream) -> Vec<syn::Block> {
    let mut blocks = Vec::new();
    for token in tokens {
        if let TokenTree::Group(group) = token {
            if group.delimiter() == proc_macro2::Delimiter::Brace
                && let Ok(block) = syn::parse2::<syn::Block>(TokenTree::Group(group.clone()).into())
            {
                blocks.push(block);
            } else {
                blocks.extend(brace_blocks(group.stream()));
            }
        }
    }
    blocks
}

/// A `let` pattern without its type annotation.
fn strip_type(pat: &syn::Pat) -> &syn::Pat {
    match pat {
        syn::Pat::Type(typed) => &typed.pat,
        other => other,
    }
}

/// The table of a binding typed as an `ActiveModel` (`let mut model: user::ActiveModel =
/// found.into()`).
fn typed_model(pat: &syn::Pat) -> Option<String> {
    let syn::Pat::Type(typed) = pat else {
        return None;
    };
    model_type(&typed.ty)
}

/// The table of an `ActiveModel` type (`user::ActiveModel`).
fn model_type(ty: &syn::Type) -> Option<String> {
    model_type_named(ty, "ActiveModel")
}

/// The table of a `SeaORM` model type named `model` (`user::Model`, `user::ActiveModel`).
fn model_type_named(ty: &syn::Type, model: &str) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    match segments(&path.path).as_slice() {
        [.., table, name] if name == model => Some(table.clone()),
        // (Imported by its bare name: the file's entity, as for a bare literal.)
        [name] if name == model => Some("entity".to_owned()),
        _ => None,
    }
}

/// The table of a `SeaORM` `ActiveModel` literal (`user::ActiveModel { .. }`), directly or
/// through `Set`/`..Default::default()`.
fn active_model_table(expr: &Expr) -> Option<String> {
    match made_model(expr)?.as_slice() {
        [.., table, model] if model == "ActiveModel" => Some(table.clone()),
        [model] if model == "ActiveModel" => Some("entity".to_owned()),
        _ => None,
    }
}

/// The path of the type a value is made of, as its segments: a struct literal's
/// (`user::ActiveModel { .. }`), or an empty one's to be filled in field by field
/// (`ActiveModel::new()`, `user::ActiveModel::default()`).
fn made_model(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Struct(literal) => Some(segments(&literal.path)),
        Expr::Call(call) if call.args.is_empty() => match &*call.func {
            Expr::Path(function)
                if function
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "new" || s.ident == "default") =>
            {
                let mut segs = segments(&function.path);
                segs.pop();
                Some(segs)
            }
            _ => None,
        },
        _ => None,
    }
}

/// One thing a function of the audited code does to one table, seen from its callers.
#[derive(Debug, Clone)]
pub struct Effect {
    pub kind: Kind,
    pub api: Api,
    pub table: String,
    pub keys: Vec<String>,
    pub columns: Vec<String>,
    /// A read that returns `Err` when it finds the row (`ensure_email_free(..)?`): a `?`
    /// on a call to it decides what follows.
    pub checks: bool,
    /// What a read returns (see [`Op::rows`]).
    pub rows: Rows,
    /// An insert whose unique violation the function handles itself (it maps `23505` to
    /// "already exists"), or with its own `ON CONFLICT`: safe where it is called, but for
    /// a read by columns other than its conflict target.
    pub guarded: bool,
    /// A guarded insert's conflict target, when written.
    pub conflict: Vec<String>,
    /// A read through a join (see [`Op::joined`]).
    pub joined: bool,
}

impl Effect {
    /// The insert a method generated by one of the crate's own derives makes
    /// ([`Index::derived_inserts`]): into `table`, through sqlx.
    pub fn derived_insert(table: &str) -> Self {
        Effect {
            kind: Kind::Insert,
            api: Api::Sqlx,
            table: table.to_owned(),
            keys: Vec::new(),
            columns: Vec::new(),
            checks: false,
            rows: Rows::One,
            guarded: false,
            conflict: Vec::new(),
            joined: false,
        }
    }
}

/// What a function of the audited code does to the database, seen from its callers: an
/// effect per table it only reads, or only inserts into (with no read of that table before).
#[derive(Debug, Clone, Default)]
pub struct Helper {
    pub effects: Vec<Effect>,
    /// The Cargo package that defines it, when known: it is a helper only where that
    /// package can be called.
    pub package: Option<usize>,
    /// The file that defines it, for a free function.
    pub file: Option<usize>,
}

impl Helper {
    /// Whether two definitions of one name do the same to the database.
    pub fn same_effect(&self, other: &Helper) -> bool {
        self.effects.len() == other.effects.len()
            && self.effects.iter().zip(&other.effects).all(|(a, b)| {
                a.kind == b.kind && a.table == b.table && a.checks == b.checks && a.api == b.api
            })
    }

    /// Whether its read, if any, returns `Err` when it finds the row.
    fn checks(&self) -> bool {
        self.effects.iter().any(|e| e.checks)
    }
}

/// A function's name and how it is called: as a method (`x.name(..)`, a function with a
/// `self` receiver) or as a path (`name(..)`, `Type::name(..)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Callee {
    pub name: String,
    pub method: bool,
    /// The type whose `impl` defines it (`Like` for `Like::insert`), when known; the table
    /// also holds every function under `None`, for calls whose type is not written.
    pub owner: Option<String>,
}

/// The module a path call names, and whether the path starts at a module imported or
/// declared here (`mods::create(..)`, not `crate::..` or `self::..`): then it is never the
/// calling file's own function.
#[derive(Debug, Clone, Copy)]
struct ModulePath<'a> {
    name: &'a str,
    imported: bool,
}

/// How a call names its function: as a method or by path, on which type when known, and
/// whether on a field (`self.repository.create(..)`), another object than the caller's.
#[derive(Debug, Clone, Copy)]
struct Call<'a> {
    method: bool,
    owner: Option<&'a str>,
    /// The module a path call names (`device` in `data::user::device::create(..)`).
    module: Option<ModulePath<'a>>,
    on_field: bool,
    /// Whether `owner` is the receiver's type for sure (a field's declared type), not a
    /// guess from a variable's name.
    known: bool,
}

/// An expression without its `.await`s, `?`s, references and parentheses.
fn strip_awaits(expr: &Expr) -> &Expr {
    match expr {
        Expr::Await(inner) => strip_awaits(&inner.base),
        Expr::Try(inner) => strip_awaits(&inner.expr),
        Expr::Reference(inner) => strip_awaits(&inner.expr),
        Expr::Paren(inner) => strip_awaits(&inner.expr),
        other => other,
    }
}

/// Whether a method's receiver is a field of something (`self.repository`, `state.db`),
/// through references and parentheses.
fn on_field(receiver: &Expr) -> bool {
    match receiver {
        Expr::Reference(inner) => on_field(&inner.expr),
        Expr::Paren(inner) => on_field(&inner.expr),
        Expr::Field(_) => true,
        _ => false,
    }
}

/// Helpers by how they are called, every definition with its package; where a call can
/// reach two definitions of one name with different effects, it is neither (it could be
/// either).
pub type Helpers = std::collections::HashMap<Callee, Vec<Helper>>;

/// The error variants of a unique violation: Diesel's `DatabaseErrorKind::UniqueViolation`,
/// `SeaORM`'s `SqlErr::UniqueConstraintViolation`, named in an expression or a pattern.
const UNIQUE_VIOLATIONS: &[&str] = &["UniqueViolation", "UniqueConstraintViolation"];

/// Whether a function turns a unique violation into an error in a `map_err` closure
/// (`self.map_err(|err| match err.sql_err() { Some(UniqueConstraintViolation(d)) =>
/// DatabaseError::Conflict { .. }, .. })`), or in an arm of its own that errs
/// (`DatabaseErrorKind::UniqueViolation => Err(DatabaseError::new(DuplicateKeyError, ..))`).
pub fn maps_violation_to_error(block: &syn::Block) -> bool {
    struct Maps(bool);
    impl<'ast> Visit<'ast> for Maps {
        fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
            if node.method == "map_err"
                && node
                    .args
                    .iter()
                    .any(|arg| names_any(arg, UNIQUE_VIOLATIONS))
            {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, node);
        }
        // `DatabaseErrorKind::UniqueViolation => Err(DatabaseError::new(
        // ErrorCode::DuplicateKeyError, None))`: an arm on the violation that errs.
        fn visit_arm(&mut self, node: &'ast syn::Arm) {
            fn errs(body: &Expr) -> bool {
                match body {
                    Expr::Call(call) => {
                        matches!(&*call.func, Expr::Path(p) if p.path.is_ident("Err"))
                    }
                    Expr::Block(block) => match block.block.stmts.last() {
                        Some(syn::Stmt::Expr(last, None)) => errs(last),
                        _ => false,
                    },
                    _ => false,
                }
            }
            let errs = errs(&node.body);
            let mut names = Names(UNIQUE_VIOLATIONS, false);
            names.visit_pat(&node.pat);
            if errs && names.1 {
                self.0 = true;
            }
            syn::visit::visit_arm(self, node);
        }
    }
    let mut maps = Maps(false);
    maps.visit_block(block);
    maps.0
}

/// Whether what it visits names any of the names it holds.
struct Names<'n>(&'n [&'n str], bool);

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
        if self.0.iter().any(|name| ident == name) {
            self.1 = true;
        }
    }
}

/// Whether an expression names any of `names` (as a variable, a path segment, a method).
fn names_any(expr: &Expr, names: &[&str]) -> bool {
    let mut found = Names(names, false);
    found.visit_expr(expr);
    found.1
}

/// Whether macro tokens name a unique violation's error variant.
fn names_unique_violation(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => UNIQUE_VIOLATIONS.contains(&ident.to_string().as_str()),
        TokenTree::Group(group) => names_unique_violation(group.stream()),
        _ => false,
    })
}

/// The enum variants (by name) a `From` conversion answers a unique violation with: those
/// of the branch whose condition or pattern tests for one (`if err.is_unique_violation() {
/// return Error::ConflictInDatabase; }`, `UniqueViolation => ApiError::Conflict(..)`).
/// Empty when it answers with no variant the audit can name.
pub fn violation_answers(from: &syn::Block) -> Vec<String> {
    struct Answers(Vec<String>);
    /// The variants a branch names (`Error::Conflict`, `ApiError::Taken { .. }`).
    struct Paths<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Paths<'_> {
        fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
            if node.path.segments.len() >= 2
                && let Some(last) = node.path.segments.last()
            {
                self.0.push(last.ident.to_string());
            }
        }
        fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
            if node.path.segments.len() >= 2
                && let Some(last) = node.path.segments.last()
            {
                self.0.push(last.ident.to_string());
            }
            syn::visit::visit_expr_struct(self, node);
        }
    }
    impl<'ast> Visit<'ast> for Answers {
        fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
            let mut tests = TestsViolation(false);
            tests.visit_expr(&node.cond);
            if tests.0 {
                Paths(&mut self.0).visit_block(&node.then_branch);
            }
            syn::visit::visit_expr_if(self, node);
        }
        fn visit_arm(&mut self, node: &'ast syn::Arm) {
            let mut tests = TestsViolation(false);
            tests.visit_pat(&node.pat);
            if tests.0 {
                Paths(&mut self.0).visit_expr(&node.body);
            }
            syn::visit::visit_arm(self, node);
        }
    }
    /// Whether a condition or a pattern names a unique violation or a test for one.
    struct TestsViolation(bool);
    impl<'ast> Visit<'ast> for TestsViolation {
        fn visit_ident(&mut self, node: &'ast proc_macro2::Ident) {
            let name = node.to_string();
            self.0 |= UNIQUE_VIOLATIONS.contains(&name.as_str())
                || CONFLICT_TESTS.contains(&name.as_str());
        }
        fn visit_macro(&mut self, node: &'ast syn::Macro) {
            self.0 |= names_unique_violation(node.tokens.clone());
            syn::visit::visit_macro(self, node);
        }
    }
    let mut answers = Answers(Vec::new());
    answers.visit_block(from);
    answers.0
}

/// Whether an arm's value is a server error (`StatusCode::INTERNAL_SERVER_ERROR`, `500`).
pub fn answers_server_error(body: &Expr) -> bool {
    match body {
        Expr::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "INTERNAL_SERVER_ERROR"),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_digits() == "500",
        Expr::Paren(inner) => answers_server_error(&inner.expr),
        _ => false,
    }
}

/// The variants a pattern names (`Error::Conflict | Error::Io(_)`: `Conflict`, `Io`).
pub fn variant_names(pat: &syn::Pat) -> Vec<String> {
    let last = |path: &syn::Path| {
        (path.segments.len() >= 2)
            .then(|| path.segments.last().map(|s| s.ident.to_string()))
            .flatten()
    };
    match pat {
        syn::Pat::Or(or) => or.cases.iter().flat_map(variant_names).collect(),
        syn::Pat::Path(path) => last(&path.path).into_iter().collect(),
        syn::Pat::TupleStruct(tuple) => last(&tuple.path).into_iter().collect(),
        syn::Pat::Struct(item) => last(&item.path).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Calls that test an error for a unique violation (or the conflict it was mapped to): a
/// function that calls one handles its insert's violation.
const CONFLICT_TESTS: &[&str] = &[
    "is_unique_violation",
    "is_conflict",
    "is_duplicate",
    "is_duplicate_key",
    "is_unique_constraint_violation",
];

/// What calling a function protects for its caller, seen in its own code alone (not the
/// crate's other functions).
#[derive(Debug, Default)]
pub struct CallerProtection {
    /// A lock it takes (`lock_data_key(conn, ..)`, an advisory lock) or a unique
    /// violation it answers (`map_sqlx_error`, passed to `map_err`), when it does nothing
    /// to a table itself. One that also reads and inserts protects only itself
    /// (`WorkRelation::create` locking its own check, `SipConfig::insert` retrying its own
    /// insert), and its name (`create`, `insert`) protects nothing elsewhere.
    pub safe_by: Option<SafeBy>,
    /// It locks rows and does nothing else to the database: its reads are all `FOR
    /// UPDATE` / `FOR SHARE` (`lock_permission_owner(conn, id)`), so a check after calling
    /// it runs one caller at a time for what it locked.
    pub locks_rows: bool,
}

/// What calling a function whose body is `block` protects for its caller (see
/// [`CallerProtection`]), from one pass over the body.
pub fn protects_callers(block: &syn::Block) -> CallerProtection {
    let mut collector = Collector::default();
    collector.visit_block(block);
    let ops: Vec<&Op> = collector
        .found
        .ops
        .iter()
        .filter(|op| !op.table.is_empty())
        .collect();
    let only_protects = ops.iter().all(|op| op.kind == Kind::Update && op.guarded);
    // (An optimistic lock taken in the transaction, `UPDATE orders SET version = version
    // + 1 WHERE id = $1 AND version = $2`, holds the row's lock until it ends, as `FOR
    // UPDATE` does.)
    let versioned = || versioned_update(block);
    let locks = |op: &&Op| {
        (op.kind == Kind::Read && op.row_lock) || (op.kind == Kind::Update && versioned())
    };
    CallerProtection {
        safe_by: collector.found.safe_by.filter(|_| only_protects),
        locks_rows: !ops.is_empty() && ops.iter().all(locks),
    }
}

/// Whether a function body updates rows by their version as well as their key: a filter
/// on a `version` column (`.filter(orders::version.eq(self.version))`,
/// `.filter(Column::Version.eq(..))`) or SQL whose `WHERE` names one.
fn versioned_update(block: &syn::Block) -> bool {
    struct Versioned(bool);
    impl<'ast> Visit<'ast> for Versioned {
        fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
            if node.method == "filter"
                && node
                    .args
                    .iter()
                    .any(|arg| names_any(arg, &["version", "Version"]))
            {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, node);
        }
        fn visit_lit_str(&mut self, node: &'ast syn::LitStr) {
            let sql = node.value().to_ascii_lowercase();
            if sql
                .split_once("where")
                .is_some_and(|(_, condition)| condition.contains("version"))
            {
                self.0 = true;
            }
        }
    }
    let mut versioned = Versioned(false);
    versioned.visit_block(block);
    versioned.0
}

/// What a function body's own code makes safe (a unique violation it handles, a lock it
/// takes), knowing what `index` knows of the crate (its handlers and lockers: a
/// conversion that calls the crate's error mapper handles what the mapper does).
pub fn safe_by_knowing(block: &syn::Block, index: std::rc::Rc<Index>) -> Option<SafeBy> {
    let mut collector = Collector {
        index,
        ..Collector::default()
    };
    collector.visit_block(block);
    collector.found.safe_by
}

impl Collector {
    /// Knows the types of the function's parameters (`item: DbUserFeedItem`), and which
    /// are `SeaORM` `ActiveModel`s (`model: coin::ActiveModel`: `model.insert(db)` inserts).
    pub fn parameters(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            // A handler's extractor (`JsonBody(user): JsonBody<NewUserRequest>`): the
            // binding holds the type inside.
            if let syn::FnArg::Typed(typed) = input
                && let syn::Pat::TupleStruct(extractor) = &*typed.pat
                && let [syn::Pat::Ident(name)] =
                    extractor.elems.iter().collect::<Vec<_>>().as_slice()
                && let syn::Type::Path(wrapper) = &*typed.ty
                && let Some(last) = wrapper.path.segments.last()
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
                && let Some(ty) = core_type(inner)
            {
                self.types.insert(name.ident.to_string(), ty);
                continue;
            }
            if let syn::FnArg::Typed(typed) = input
                && let syn::Pat::Ident(name) = &*typed.pat
            {
                if let Some(ty) = core_type(&typed.ty) {
                    self.types.insert(name.ident.to_string(), ty);
                }
                if let Some(table) =
                    model_type(&typed.ty).or_else(|| self.aliased_model_type(&typed.ty))
                {
                    self.models.insert(name.ident.to_string(), table);
                }
                // `model: mega_refs::Model`: `model.into_active_model()` is its table's.
                if let Some(table) = model_type_named(&typed.ty, "Model") {
                    self.made_models.insert(name.ident.to_string(), table);
                }
            }
        }
    }

    /// A collector of function `own` that knows `helpers`.
    pub fn with(helpers: std::rc::Rc<Helpers>, own: &str) -> Self {
        Collector {
            helpers,
            own: own.to_owned(),
            ..Collector::default()
        }
    }

    /// The helper `name` called as a method or by path (on `owner`, when the path names a
    /// type: `Like::insert`), if the audited code has one.
    ///
    /// A call of the function's own name is recursion, and not its own helper, unless it is
    /// on another object: `self.repository.create(..)` in a service's `create` delegates.
    fn helper(&self, name: &str, call: &Call) -> Option<&Helper> {
        let Call {
            method,
            owner,
            module,
            on_field,
            known,
        } = *call;
        // `..Default::default()`, `Config::default()`: a value's defaults, not database work
        // (whatever a crate's function of that name does elsewhere).
        if name == "default" {
            return None;
        }
        // (`data::device::create_device(..)` in an endpoint of that name is another module's.)
        let own_module = self.file.and_then(|f| self.index.modules.get(f));
        let elsewhere =
            module.is_some_and(|m| m.imported || own_module.is_none_or(|own| own != m.name));
        if name == self.own
            && !on_field
            && !elsewhere
            && owner.is_none_or(|o| Some(o) == self.owner.as_deref())
        {
            return None;
        }
        let owner = match owner {
            Some("Self") => self.owner.as_deref(),
            other => other,
        };
        let key = |owner: Option<&str>| Callee {
            name: name.to_owned(),
            method,
            owner: owner.map(str::to_owned),
        };
        // A `SeaORM` entity under another name (`pub use job::Entity as Job;`):
        // `Job::find_by_kind(..)` is a function of an `impl Entity` (or `Model`) block, the
        // one whose effects are on the alias's table.
        if let Some(alias) = owner
            && let Some(table) = self.index.aliases.get(alias)
        {
            let of_table: Vec<&Helper> = ["Entity", "Model", "ActiveModel"]
                .into_iter()
                .filter_map(|model| self.helpers.get(&key(Some(model))))
                .flatten()
                .filter(|h| {
                    h.effects
                        .iter()
                        .any(|e| e.table.eq_ignore_ascii_case(table))
                })
                .collect();
            if let Some(helper) = self.agreed(of_table) {
                return Some(helper);
            }
        }
        // A receiver of a type the crate defines no such method for (`self.object:
        // ObjectId<..>` of another crate) runs none of the crate's functions.
        if known
            && let Some(ty) = owner
            && !self.index.defines(ty, name)
        {
            return None;
        }
        // The type's own method, or, on a trait (`Arc<dyn UserRepository>`), its
        // implementors' that do something to the database, when they agree. (A trait's
        // implementor may live in a package that depends on the caller's, as ports and
        // adapters do: the call reaches it through the trait.)
        let typed = owner.and_then(|owner| {
            let found: Vec<&Helper> = self
                .index
                .owners(owner)
                .iter()
                .filter_map(|o| self.helpers.get(&key(Some(o))))
                .flatten()
                .collect();
            if self.index.implementors.contains_key(owner) {
                Self::agreed_in(&found)
            } else {
                self.agreed(found)
            }
        });
        // The type's own function that does nothing to the database (`Self::new(..)` of a
        // config) is not another type's of the same name. Nor, on a trait, are its
        // implementors' (`payment_processor.refund(..)` on a `&dyn PaymentProcessor` whose
        // implementors call a payment API is not `Order::refund`).
        let own_without_effect = known
            && owner.is_some_and(|ty| {
                self.index.owners(ty).iter().any(|owner| {
                    self.index
                        .methods
                        .get(owner)
                        .is_some_and(|methods| methods.contains(name))
                })
            });
        typed.or_else(|| {
            let all = (!own_without_effect)
                .then(|| self.helpers.get(&key(None)))
                .flatten()?;
            // An unqualified call of a free function defined in the same file is that
            // function (Rust resolves the name in the module first), whatever other
            // modules define under the name.
            // A call through a module path (`device::create(..)`) names the function in
            // that module's file (another file than the caller's, when the path starts at
            // an import: `mods::create(..)` in `endpoints/mods.rs`).
            let here: Vec<&Helper> = all
                .iter()
                .filter(|h| !method && owner.is_none() && h.file.is_some())
                .filter(|h| match module {
                    Some(module) => {
                        (!module.imported || h.file != self.file)
                            && h.file
                                .and_then(|f| self.index.modules.get(f))
                                .is_some_and(|m| m == module.name)
                    }
                    None => h.file == self.file,
                })
                .collect();
            if here.is_empty() {
                self.agreed(all.iter().collect())
            } else {
                self.agreed(here)
            }
        })
    }

    /// Of the definitions a call names, those it can reach (in packages the caller's
    /// package can call), when they agree on what they do.
    fn agreed<'h>(&self, found: Vec<&'h Helper>) -> Option<&'h Helper> {
        let reachable: Vec<&Helper> = found
            .into_iter()
            .filter(|h| {
                h.package.is_none_or(|p| {
                    self.visible
                        .as_ref()
                        .is_none_or(|visible| visible.contains(&p))
                })
            })
            .collect();
        Self::agreed_in(&reachable)
    }

    /// The definitions found, when they agree on what they do.
    fn agreed_in<'h>(found: &[&'h Helper]) -> Option<&'h Helper> {
        let first = *found.first()?;
        found.iter().all(|h| h.same_effect(first)).then_some(first)
    }

    /// A call to a helper is its operations, at the call site: its reads, then its inserts.
    fn helper_call(&mut self, name: &syn::Ident, call: &Call) {
        let name_text = name.to_string();
        let Some(helper) = self.helper(&name_text, call).cloned() else {
            return;
        };
        let mut effects = helper.effects;
        effects.sort_by_key(|e| e.kind != Kind::Read);
        for mut effect in effects {
            // A generic helper's table: the one this call names, else none known.
            if effect.table == GENERIC_TABLE {
                match &self.call_table {
                    Some(table) => effect.table.clone_from(table),
                    None => continue,
                }
            }
            // A helper that looked through a list and returned `Err` on a match
            // (`check_used_proofs(..)?`) decided, as a read of one row does.
            let rows = if effect.checks && effect.kind == Kind::Read {
                Rows::One
            } else {
                effect.rows
            };
            self.push(Op {
                keys: effect.keys,
                rows,
                columns: effect.columns,
                guarded: effect.guarded,
                conflict: effect.conflict,
                joined: effect.joined,
                via: Some(name_text.clone()),
                ..Op::new(
                    effect.kind,
                    effect.api,
                    effect.table,
                    name.span().start().line,
                )
            });
        }
    }

    /// Whether `expr` calls a helper that returns `Err` when its read finds the row.
    fn checks(&self, expr: &Expr) -> bool {
        let callee = match expr {
            Expr::Await(inner) => return self.checks(&inner.base),
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) => path
                    .path
                    .segments
                    .last()
                    .map(|s| (s.ident.to_string(), false, path_owner(&path.path), false)),
                _ => None,
            },
            Expr::MethodCall(call) => Some((
                call.method.to_string(),
                true,
                None,
                on_field(&call.receiver),
            )),
            _ => None,
        };
        callee.is_some_and(|(name, method, owner, on_field)| {
            let call = Call {
                method,
                owner: owner.as_deref(),
                module: None,
                on_field,
                known: false,
            };
            self.helper(&name, &call).is_some_and(Helper::checks)
        })
    }

    /// Records what a call of function or method `name` makes safe: a test of an error for
    /// a unique violation (or the conflict it was mapped to), or a helper of the crate that
    /// handles one or takes a lock (`owner`: the type a path call names; `method`: a
    /// method call, see [`Index::locks`]).
    fn note_called(&mut self, name: &str, owner: Option<&str>, method: bool) {
        if name.ends_with("for_update") || self.index.locks_rows(name, owner, method) {
            let at = self.order;
            self.found.row_locks.push(at);
        }
        if self.index.error_mappers.contains(name) {
            // (Unless something else already handles it.)
            if self.found.safe_by.is_none() {
                self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
                self.found.by_conversion = true;
            }
        } else if CONFLICT_TESTS.contains(&name) || self.index.handlers.contains(name) {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
            self.found.by_conversion = false;
        } else if self.index.locks(name, owner, method) {
            self.found.safe_by = Some(SafeBy::Lock);
            self.found.lock_at.get_or_insert(self.order);
        }
    }

    /// Records a lock or isolation level that a statement of the function takes.
    fn note_safety(&mut self, sql: &str) {
        let lower = sql.to_ascii_lowercase();
        if lower.contains("pg_advisory")
            || lower.contains("get_lock(")
            || lower.contains("lock table")
            || lower.contains("begin immediate")
            || lower.contains("begin exclusive")
        {
            self.found.safe_by = Some(SafeBy::Lock);
            self.found.lock_at.get_or_insert(self.order);
        } else if lower.contains("serializable") {
            self.found.safe_by = Some(SafeBy::Serializable);
        } else if lower == "23505" || lower == "1062" {
            self.found.safe_by = Some(SafeBy::HandledUniqueViolation);
        }
    }

    /// Marks the counts a condition compares with a limit (not with 0 or 1) as quotas:
    /// through the variables holding them, or read in the condition itself (from op `start`).
    fn note_quotas(&mut self, cond: &Expr, start: usize) {
        // Each comparison's sides, and whether it orders them (`<`, `>=`: a limit).
        struct Comparisons<'a>(Vec<(&'a Expr, &'a Expr, bool)>);
        impl<'ast> Visit<'ast> for Comparisons<'ast> {
            fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
                let ordering = matches!(
                    node.op,
                    syn::BinOp::Lt(_) | syn::BinOp::Le(_) | syn::BinOp::Gt(_) | syn::BinOp::Ge(_)
                );
                if ordering || matches!(node.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) {
                    self.0.push((&node.left, &node.right, ordering));
                }
                syn::visit::visit_expr_binary(self, node);
            }
        }
        // (Through casts and `Some(..)`: sqlx's `COUNT(..)` column is an `Option<i64>`, so
        // `exists.count == Some(1)` is a check.)
        let zero_or_one = |e: &Expr| {
            let mut e = e;
            loop {
                match e {
                    Expr::Cast(cast) => e = &cast.expr,
                    Expr::Call(call)
                        if call.args.len() == 1
                            && matches!(&*call.func, Expr::Path(p) if p.path.is_ident("Some")) =>
                    {
                        e = &call.args[0];
                    }
                    _ => break,
                }
            }
            matches!(e, Expr::Lit(syn::ExprLit { lit: Lit::Int(n), .. }) if matches!(n.base10_digits(), "0" | "1"))
        };
        let inline: Vec<usize> = self.found.ops[start..]
            .iter()
            .filter(|op| op.kind == Kind::Read && op.rows == Rows::Count)
            .map(|op| op.order)
            .collect();
        let mut comparisons = Comparisons(Vec::new());
        comparisons.visit_expr(cond);
        for (left, right, ordering) in comparisons.0 {
            if zero_or_one(left) || zero_or_one(right) {
                continue;
            }
            let mut counts: Vec<usize> = self.lists_in(left);
            counts.extend(self.lists_in(right));
            counts.extend(&inline);
            // (A list's length held against a limit, `existing.len() >= limit`, is one too;
            // not one compared for equality, `graph.len() == previous_len`.)
            let lengths = |e: &Expr| {
                matches!(e, Expr::MethodCall(m) if m.method == "len")
                    || matches!(e, Expr::Cast(c) if matches!(&*c.expr, Expr::MethodCall(m) if m.method == "len"))
            };
            let measured = ordering && (lengths(left) || lengths(right));
            for order in counts {
                if self.found.ops.iter().any(|op| {
                    op.order == order
                        && (op.rows == Rows::Count || (measured && op.rows == Rows::Many))
                }) {
                    self.found.quotas.insert(order);
                }
            }
        }
    }

    /// The list reads whose rows an expression looks into, through the variables that hold
    /// them.
    fn lists_in(&self, expr: &Expr) -> Vec<usize> {
        names_in(&self.lists, expr)
    }

    /// The list reads that the closures inside an expression look into (`.filter(|k|
    /// !existing.contains(k))`).
    fn lists_in_closures(&self, expr: &Expr) -> Vec<usize> {
        struct Closures<'a>(&'a Collector, Vec<usize>);
        impl<'ast> Visit<'ast> for Closures<'_> {
            fn visit_expr_closure(&mut self, node: &'ast syn::ExprClosure) {
                for order in self.0.lists_in(&node.body) {
                    if !self.1.contains(&order) {
                        self.1.push(order);
                    }
                }
            }
        }
        if self.lists.is_empty() {
            return Vec::new();
        }
        let mut closures = Closures(self, Vec::new());
        closures.visit_expr(expr);
        closures.1
    }

    /// `SeaORM`'s `model.update(db)` on an `ActiveModel`: an update of the model's table when
    /// the function bound it from a literal or with its type (`let mut model:
    /// user::ActiveModel = found.into()`), else of the table [`ANY_TABLE`] stands for.
    fn seaorm_update(&self, node: &ExprMethodCall) -> Option<Op> {
        if node.method != "update" || node.args.len() != 1 {
            return None;
        }
        let table = match &*node.receiver {
            Expr::Path(path) => path.path.get_ident().and_then(|var| {
                let var = var.to_string();
                self.models.get(&var).cloned()
            }),
            _ => None,
        };
        Some(Op::new(
            Kind::Update,
            Api::SeaOrm,
            table.unwrap_or_default(),
            node.method.span().start().line,
        ))
    }

    /// `SeaORM`'s `x.into_active_model().insert(db)`: the table is the one of `x`'s type,
    /// seen where the chain starts (`ApubUser::new(..)..into_active_model()`, a variable
    /// whose `let` shows its type) and matched to a table the function read, by name or as
    /// the end of the type's name (`ApubReceivedLike` wraps `received_like`'s model).
    fn converted_insert(&self, node: &ExprMethodCall) -> Option<Op> {
        let (methods, root, _) = chain(node);
        if node.method != "insert"
            || node.args.len() != 1
            || !methods.iter().any(|m| m == "into_active_model")
        {
            return None;
        }
        let ty = match root {
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) => path_owner(&path.path).filter(|o| o != "Self"),
                _ => None,
            },
            Expr::Path(path) => path
                .path
                .get_ident()
                .and_then(|var| self.types.get(&var.to_string()).cloned()),
            _ => None,
        }?;
        let table = self.index.aliases.get(&ty).cloned().unwrap_or_else(|| {
            let name = snake(&ty);
            self.found
                .ops
                .iter()
                .rev()
                .filter(|op| op.kind == Kind::Read)
                .map(|op| op.table.as_str())
                .find(|t| name == *t || name.ends_with(&format!("_{t}")))
                .map_or(name.clone(), str::to_owned)
        });
        Some(Op::new(
            Kind::Insert,
            Api::SeaOrm,
            table,
            node.method.span().start().line,
        ))
    }

    /// `model.insert(db)` on an `ActiveModel` bound earlier in the function.
    fn model_insert(&self, node: &ExprMethodCall) -> Option<Op> {
        let (methods, root, calls) = chain(node);
        let insert = calls.iter().rev().find(|c| c.method == "insert")?;
        let table = match methods.iter().rev().map(String::as_str).collect::<Vec<_>>()[..] {
            // `model.insert(db)` on an `ActiveModel` bound earlier.
            ["insert", ..] => {
                let Expr::Path(path) = root else {
                    return None;
                };
                self.models.get(&path.path.get_ident()?.to_string())?
            }
            // `model.into_active_model().insert(db)` on a model made here.
            ["into_active_model", "insert", ..] => &self.model_value(root)?,
            _ => return None,
        };
        Some(Op::new(
            Kind::Insert,
            Api::SeaOrm,
            table.clone(),
            insert.method.span().start().line,
        ))
    }
}

/// Whether `read` decides `write` in a function: the insert sits on a branch entered after
/// the read, at or below the read's own branch (not on a sibling arm), or an early exit on
/// such a branch lies between them; for a read of one row, that branch's condition (or
/// an enclosing one's) looks at what the read gave ([`FnOps::looks_at`]). Or the insert
/// saves the row the read found or the value made in its place ([`FnOps::fed`]).
pub fn read_decides(found: &FnOps, read: &Op, write: &Op) -> bool {
    // A read whose "no row" left at once: the insert runs with the row found.
    if found
        .required
        .get(&read.order)
        .is_some_and(|&after| write.order > after)
    {
        return false;
    }
    let below = |path: &[usize], of: &[usize]| path.len() > of.len() && path.starts_with(of);
    // An exit that the read's arm takes whatever it found (`if let Some(code) = code {
    // read; .. return Ok(..) }`): an insert after it runs only where that arm was not
    // taken, and the read not made.
    if found.early_returns.iter().any(|exit| {
        read.order < exit.order
            && exit.order < write.order
            && !exit.path.is_empty()
            && read.path.starts_with(&exit.path)
            && !write.path.starts_with(&exit.path)
    }) {
        return false;
    }
    // An insert on the arm taken when the read found its row (`if let Some(old) = found
    // { delete; insert }`) is not "no row, insert", unless a check inside that arm returned
    // on a row found (`if group.contains(key) { return Err(..) }` then the insert).
    let returned_on_found = found.early_returns.iter().any(|exit| {
        read.order < exit.order && exit.order < write.order && exit.found == Some(true)
    });
    if below(&write.path, &read.path)
        && found.arm_found.get(&write.path[read.path.len()]) == Some(&Some(true))
        && !returned_on_found
    {
        return false;
    }
    // An insert on an arm of a `match` on a variant (`Plan::Flat(_) => create(..)`): the
    // arm is chosen by what a row holds, not by whether there is one.
    // (Below where the read was written: `let done = match pool { Pg(p) => { read; if ..
    // { insert } } }` moves a read out to its `let`.) So is one on an arm of a comparison
    // of values (`if task.url != url { insert_canonical(..) }`).
    let origin = read.written_in.as_deref().unwrap_or(&read.path);
    if below(&write.path, origin)
        && (found.variant_arms.contains(&write.path[origin.len()])
            || found.compares(write.path[origin.len()]))
        && !returned_on_found
    {
        return false;
    }
    // An insert of the value a read found or made in its place, or of what a list read
    // lacks (`add_labels(wanted.difference(&present))`).
    if found
        .fed
        .get(&write.order)
        .is_some_and(|reads| reads.contains(&read.order))
    {
        return true;
    }
    if read.rows == Rows::Many {
        // Many rows decide only an insert under a condition that looks into them, or one
        // after an exit from such a condition's arm.
        let looks = |path: &[usize]| {
            path.iter().any(|arm| {
                found
                    .list_checks
                    .get(arm)
                    .is_some_and(|reads| reads.contains(&read.order))
            })
        };
        return (below(&write.path, &read.path) && looks(&write.path[read.path.len()..]))
            || found.early_returns.iter().any(|exit| {
                read.order < exit.order
                    && exit.order < write.order
                    && below(&exit.path, &read.path)
                    && looks(&exit.path[read.path.len()..])
                    && exit.found != Some(false)
            });
    }
    // Only a branch whose condition looks at the read, or an arm inside one, is decided by
    // it: `if !session.is_admin { return Err(..) }` after a read is not.
    let looked = |path: &[usize]| {
        path.iter().any(|arm| {
            found
                .looks_at
                .get(arm)
                .is_some_and(|reads| reads.contains(&read.order))
        })
    };
    (below(&write.path, &read.path) && looked(&write.path[read.path.len()..]))
        || found.early_returns.iter().any(|exit| {
            // (An exit taken when the read found nothing, `if rows.is_empty() { break }`,
            // leaves the insert to run when it found the row: not "no row, insert". Nor
            // does one on a comparison of values, `if old.user_id != user_id { return }`,
            // unless on the arm taken when it found the row: `if let Some(vote) = found {
            // if vote.value == value { return } }` then the insert.)
            read.order < exit.order
                && exit.order < write.order
                && below(&exit.path, &read.path)
                && looked(&exit.path[read.path.len()..])
                && exit.found != Some(false)
                && !(exit.found.is_none()
                    && exit.path.last().is_some_and(|arm| found.compares(*arm)))
        })
}

/// What a function is to its callers: for each table, an inserter (an unguarded insert and
/// no read of that table before it) or a reader (an unguarded read and no insert into it).
/// A table it both reads and then inserts into is its own race (reported in it), not an
/// effect. `None` for a function that does nothing to the database.
pub fn helper_of(found: &FnOps) -> Option<Helper> {
    let mut tables: Vec<&str> = Vec::new();
    for op in &found.ops {
        if !tables.iter().any(|t| t.eq_ignore_ascii_case(&op.table)) {
            tables.push(&op.table);
        }
    }
    // (A helper protected only by its error type's conversion hands its caller "already
    // exists": that answers a caller that rejects, which its own type tells, not one that
    // wanted the row.)
    let handled = found.safe_by == Some(SafeBy::HandledUniqueViolation) && !found.by_conversion;
    let mut effects = Vec::new();
    for table in tables {
        let of = |kind: Kind| {
            found.ops.iter().filter(move |o| {
                o.kind == kind
                    && !o.guarded
                    && !found.quotas.contains(&o.order)
                    && o.table.eq_ignore_ascii_case(table)
            })
        };
        let effect = |op: &Op, kind, checks, guarded| Effect {
            rows: op.rows,
            kind,
            api: op.api,
            table: op.table.clone(),
            keys: op.keys.clone(),
            columns: op.columns.clone(),
            checks,
            guarded,
            conflict: op.conflict.clone(),
            joined: op.joined,
        };
        let first_read = of(Kind::Read).next();
        let first_insert = of(Kind::Insert).next();
        // An insert with `ON CONFLICT` on named columns (`save` upserting by `uuid`): a
        // caller that reads by `email` first still races on `email`.
        // The targets of every such insert (one per backend, in a `db_run!`), Diesel's
        // MySQL `DuplicatedKeys` (any key) left out.
        let targeted: Vec<&Op> = found
            .ops
            .iter()
            .filter(|o| {
                o.kind == Kind::Insert
                    && o.guarded
                    && o.conflict.iter().any(|c| c != "DuplicatedKeys")
                    && o.table.eq_ignore_ascii_case(table)
            })
            .collect();
        if first_read.is_none()
            && first_insert.is_none()
            && let Some(insert) = targeted.first()
        {
            let mut upsert = effect(insert, Kind::Insert, false, true);
            upsert.conflict = targeted
                .iter()
                .flat_map(|o| o.conflict.iter().cloned())
                .filter(|c| c != "DuplicatedKeys")
                .collect();
            upsert.conflict.dedup();
            effects.push(upsert);
            continue;
        }
        match (first_read, first_insert) {
            (None, Some(insert)) => effects.push(effect(insert, Kind::Insert, false, handled)),
            // An insert before any read of its table, or after a read that does not decide
            // it (a parent row looked up by another key): an inserter.
            (Some(read), Some(insert))
                if insert.order < read.order || !read_decides(found, read, insert) =>
            {
                effects.push(effect(insert, Kind::Insert, false, handled));
            }
            (Some(read), None) => {
                // A validation helper: it returns an error after its read, on a branch.
                // (On a branch taken when it found the row: a helper that errs when the row
                // is missing, `ensure_owner(..)?`, decides nothing about an insert.)
                let checks = found.early_returns.iter().chain(&found.arms).any(|exit| {
                    exit.order > read.order
                        && exit.outcome == Outcome::Error
                        && exit.found == Some(true)
                });
                effects.push(effect(read, Kind::Read, checks, false));
            }
            // An updater (`update_coin(model)`): where a caller updates the row it found,
            // the intent is an upsert.
            (None, None) if table != ANY_TABLE && !table.is_empty() => {
                if let Some(update) = of(Kind::Update).next() {
                    effects.push(effect(update, Kind::Update, false, false));
                }
            }
            _ => {}
        }
    }
    (!effects.is_empty()).then_some(Helper {
        effects,
        package: None,
        file: None,
    })
}

/// Whether `expr` turns a read's result into a `bool` and that into an `Option`
/// (`is_none()`, `is_some()`, `then_some(..)`, `then(..)`): a `?` on it is a decision.
/// (Not `filter`: Diesel's query builder has one. Nor `ok_or(..)` on such an `Option`:
/// its error is already the branch taken on its outcome, with the outcome known.)
fn decides(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(call) if call.method == "ok_or" || call.method == "ok_or_else" => false,
        Expr::MethodCall(call) => {
            matches!(
                call.method.to_string().as_str(),
                "is_none" | "is_some" | "then_some" | "then"
            ) || decides(&call.receiver)
        }
        Expr::Paren(inner) => decides(&inner.expr),
        Expr::Unary(inner) => decides(&inner.expr),
        _ => false,
    }
}

/// Every string literal in a macro's tokens, with its span.
fn string_literals(tokens: TokenStream) -> Vec<(String, Span)> {
    let mut found = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Literal(literal) => {
                if let Ok(Lit::Str(text)) = syn::parse_str::<Lit>(&literal.to_string()) {
                    found.push((text.value(), literal.span()));
                }
            }
            TokenTree::Group(group) => found.extend(string_literals(group.stream())),
            TokenTree::Ident(_) | TokenTree::Punct(_) => {}
        }
    }
    found
}

/// SQL words, lower case, with quoted identifiers unquoted and punctuation split off.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in sql.chars() {
        if c == '"' {
            quoted = !quoted;
            continue;
        }
        if quoted || c.is_alphanumeric() || c == '_' || c == '.' || c == '$' {
            word.push(c.to_ascii_lowercase());
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            // (`!`, `<` and `>` keep `id != $2` and `n >= $1` from reading as `id = $2`.)
            if matches!(c, '(' | ')' | ',' | '=' | '!' | '<' | '>') {
                out.push(c.to_string());
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A table name without its schema.
fn table_name(word: &str) -> String {
    word.rsplit('.').next().unwrap_or(word).to_owned()
}

/// Whether a query builder's `filter` holds a column after now less a span
/// (`Column::CreatedAt.gte(now - WINDOW_SECONDS)`, `created_at.gt(Utc::now() - ..)`).
fn since_now(call: &ExprMethodCall) -> bool {
    struct Since(bool);
    impl<'ast> Visit<'ast> for Since {
        fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
            // (Now less a span: `expires_at.gt(Utc::now())` asks for rows still valid,
            // which is a check that one exists.)
            if matches!(node.method.to_string().as_str(), "gt" | "gte")
                && matches!(node.args.first(), Some(Expr::Binary(back))
                if matches!(back.op, syn::BinOp::Sub(_)) && names_any(&back.left, &["now"]))
            {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, node);
        }
    }
    if call.method != "filter" {
        return false;
    }
    let mut since = Since(false);
    for arg in &call.args {
        since.visit_expr(arg);
    }
    since.0
}

/// Whether a statement's rows are those of a window of time up to now (`created >
/// NOW() - INTERVAL '20 minutes'`, `CURRENT_TIMESTAMP - INTERVAL ..`).
fn recent_window(sql: &str) -> bool {
    let w = words(sql);
    let has = |word: &str| w.iter().any(|t| t == word);
    has("interval") && (has("now") || has("current_timestamp"))
}

/// The operation a SQL literal performs, if it reads, inserts or updates a table.
pub fn sql_op(sql: &str, span: Span) -> Option<Op> {
    let w = words(sql);
    let first = w.iter().find(|t| t.as_str() != "(")?.as_str();
    let has = |word: &str| w.iter().any(|t| t == word);
    let after = |word: &str| {
        w.iter()
            .position(|t| t == word)
            .and_then(|i| w.get(i + 1))
            .map(|t| table_name(t))
    };
    let op = |kind, table: String, keys, columns, guarded| Op {
        keys,
        columns,
        guarded,
        ..Op::new(kind, Api::Sqlx, table, span.start().line)
    };
    match first {
        // A delete of rows by key (`WHERE k = $1 AND ..`, also of a set of them, `AND
        // platform IN (..)`), not a clean-up by range.
        "delete" => {
            let keys = where_keys(&w);
            let ranged = ["<", ">", "<>", "!=", "not", "like", "<=", ">="]
                .iter()
                .any(|word| has(word));
            if keys.is_empty() || ranged {
                return None;
            }
            Some(op(Kind::Delete, after("from")?, keys, Vec::new(), false))
        }
        "select" => {
            let table = from_table(&w)?;
            let keys = where_keys(&w);
            let guarded = w
                .windows(2)
                .any(|p| p[0] == "for" && (p[1] == "update" || p[1] == "share" || p[1] == "no"));
            let mut read = op(Kind::Read, table, keys, Vec::new(), guarded);
            read.row_lock = guarded;
            // `SELECT COUNT(*) ..`
            if w.get(1).is_some_and(|t| t == "count") {
                read.rows = Rows::Count;
            }
            Some(read)
        }
        "insert" => {
            let table = after("into")?;
            let columns = insert_columns(&w);
            // PostgreSQL/SQLite `ON CONFLICT`, MySQL `ON DUPLICATE KEY` and `INSERT IGNORE`,
            // SQLite `INSERT OR IGNORE/REPLACE`.
            let guarded = has("conflict")
                || has("duplicate")
                || w.get(1).is_some_and(|t| t == "ignore" || t == "or");
            let mut insert = op(Kind::Insert, table, Vec::new(), columns, guarded);
            // `.. WHERE NOT EXISTS (SELECT 1 FROM t WHERE k = $1)` on the insert's own table.
            if let Some(at) = w.windows(2).position(|p| p[0] == "not" && p[1] == "exists")
                && let Some(sub) = w.get(at + 3..)
                && from_table(sub).is_some_and(|t| t == insert.table)
            {
                insert.checks_absent = true;
                insert.keys = where_keys(sub);
            }
            // `.. AND k NOT IN (SELECT k FROM t WHERE ..)`, and the anti-join `.. LEFT JOIN
            // t g ON g.k = x WHERE g.id IS NULL`, on the insert's own table.
            if let Some(at) = w
                .windows(4)
                .position(|p| p[0] == "not" && p[1] == "in" && p[2] == "(" && p[3] == "select")
                && let Some(sub) = w.get(at + 3..)
                && from_table(sub).is_some_and(|t| t == insert.table)
            {
                insert.checks_absent = true;
                insert.keys = where_keys(sub);
            }
            if let Some(at) = w.windows(2).position(|p| p[0] == "left" && p[1] == "join")
                && w.get(at + 2).is_some_and(|t| table_name(t) == insert.table)
                && w[at..].windows(2).any(|p| p[0] == "is" && p[1] == "null")
            {
                insert.checks_absent = true;
            }
            // `ON CONFLICT (a, b)`: the target (MySQL's ON DUPLICATE KEY has none: any key).
            if let Some(at) = w.iter().position(|t| t == "conflict")
                && w.get(at + 1).is_some_and(|t| t == "(")
            {
                insert.conflict = w[at + 2..]
                    .iter()
                    .take_while(|t| t.as_str() != ")")
                    .filter(|t| t.as_str() != ",")
                    .map(|t| table_name(t))
                    .collect();
            }
            Some(insert)
        }
        "update" => {
            let table = after("update")?;
            Some(op(Kind::Update, table, where_keys(&w), Vec::new(), false))
        }
        // `WITH inserted AS (INSERT INTO t ..) SELECT ..`: the statement a common table
        // expression writes with.
        // (An insert there, else an update: `WITH u AS (UPDATE ..) INSERT INTO ..` is an
        // update-else-insert in one statement.)
        "with" => {
            let at = w
                .windows(2)
                .position(|p| p[0] == "insert" && p[1] == "into")
                .or_else(|| w.windows(3).position(|p| p[0] == "update" && p[2] == "set"))?;
            sql_op(&w[at..].join(" "), span)
        }
        _ => None,
    }
}

/// The table a `SELECT` reads: the first `FROM` outside parentheses, else (`SELECT EXISTS
/// (SELECT 1 FROM t ..)`) the first inside them that is not a function's own `FROM`
/// (`EXTRACT(EPOCH FROM created_at)`, `SUBSTRING(x FROM 2)`, `TRIM(.. FROM ..)`).
/// The tables a `SELECT` joins on a value it is given (`FROM mods m INNER JOIN
/// team_members tm ON tm.team_id = m.team_id AND tm.user_id = $2`): it asks whether such a
/// row exists. (A join on the rows' own columns alone, `ON c.mod_id = m.id`, fetches what
/// goes with them.)
fn joined_tables(sql: &str) -> Vec<(String, Vec<String>)> {
    const ENDS: &[&str] = &[
        "join", "where", "group", "order", "limit", "having", "union",
    ];
    let w = words(sql);
    let mut tables = Vec::new();
    for (at, word) in w.iter().enumerate() {
        if word != "join" || w.get(at + 1).is_none_or(|t| t == "(") {
            continue;
        }
        let on: Vec<&String> = w[at + 2..]
            .iter()
            .take_while(|t| !ENDS.contains(&t.as_str()))
            .collect();
        // Its keys: the columns set equal to a value given (`tm.user_id = $2`).
        let keys: Vec<String> = on
            .windows(3)
            .filter(|t| t[1] == "=" && (t[2].starts_with('$') || t[2] == "?"))
            .map(|t| table_name(t[0]))
            .collect();
        if !keys.is_empty() {
            tables.push((table_name(&w[at + 1]), keys));
        }
    }
    tables
}

fn from_table(w: &[String]) -> Option<String> {
    const FUNCTIONS: &[&str] = &["extract", "substring", "trim", "overlay", "position"];
    // The word before each open parenthesis, innermost last.
    let mut opened: Vec<&str> = Vec::new();
    let mut nested = None;
    for (i, word) in w.iter().enumerate() {
        match word.as_str() {
            "(" => opened.push(if i > 0 { w[i - 1].as_str() } else { "" }),
            ")" => {
                opened.pop();
            }
            "from" => {
                let table = w
                    .get(i + 1)
                    .filter(|t| t.as_str() != "(")
                    .map(|t| table_name(t));
                if opened.is_empty() {
                    return table;
                }
                if nested.is_none() && !opened.last().is_some_and(|f| FUNCTIONS.contains(f)) {
                    nested = table;
                }
            }
            _ => {}
        }
    }
    nested
}

/// `WHERE a = $1 AND b = ?`: the columns compared, in order.
fn where_keys(w: &[String]) -> Vec<String> {
    let Some(start) = w.iter().position(|t| t == "where") else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for pair in w[start + 1..].windows(2) {
        if matches!(
            pair[0].as_str(),
            "order" | "limit" | "for" | "group" | "returning"
        ) {
            break;
        }
        let identifier = pair[0]
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && pair[0].chars().next().is_some_and(|c| !c.is_ascii_digit());
        if pair[1] == "=" && identifier {
            let column = table_name(&pair[0]);
            if !keys.contains(&column) {
                keys.push(column);
            }
        }
    }
    keys
}

/// `INSERT INTO t (a, b) ..`: `a`, `b`.
fn insert_columns(w: &[String]) -> Vec<String> {
    let Some(into) = w.iter().position(|t| t == "into") else {
        return Vec::new();
    };
    if w.get(into + 2).map(String::as_str) != Some("(") {
        return Vec::new();
    }
    w[into + 3..]
        .iter()
        .take_while(|t| t.as_str() != ")")
        .filter(|t| t.as_str() != ",")
        .map(|t| table_name(t))
        .collect()
}

/// The method names of a call chain, outermost first, and the chain's root expression.
fn chain(node: &ExprMethodCall) -> (Vec<String>, &Expr, Vec<&ExprMethodCall>) {
    let mut methods = vec![node.method.to_string()];
    let mut calls = vec![node];
    let mut receiver = &*node.receiver;
    loop {
        match receiver {
            Expr::MethodCall(inner) => {
                methods.push(inner.method.to_string());
                calls.push(inner);
                receiver = &inner.receiver;
            }
            Expr::Await(inner) => receiver = &inner.base,
            Expr::Try(inner) => receiver = &inner.expr,
            _ => return (methods, receiver, calls),
        }
    }
}

/// Whether a method chain starts at a call of `ty`'s function (`SqlitePoolOptions::new()
/// .max_connections(1)`).
pub fn chain_root_is(node: &ExprMethodCall, ty: &str) -> bool {
    let (_, root, _) = chain(node);
    matches!(root, Expr::Call(call) if matches!(&*call.func, Expr::Path(path)
        if segments(&path.path).iter().any(|s| s == ty)))
}

/// The path's segments as strings.
fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The table of a `SeaORM` entity named by an alias: its `use .. ::t::Entity as Alias`
/// import's module, else the prelude's `snake_case` of it (`CrateUser` is `crate_user`).
fn entity_table(alias: &str, aliases: &Aliases) -> String {
    aliases.get(alias).cloned().unwrap_or_else(|| snake(alias))
}

/// `snake_case` of a `CamelCase` name.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A statement built with sea-query and rendered for a client (`Query::select()
/// .from(UserEmails::Table).and_where(..).build_sqlx(PostgresQueryBuilder)`, `.build(..)`,
/// `.to_string(..)`): a read, insert (`into_table`), update (`table`) or delete
/// (`from_table`) of the table its `#[derive(Iden)]` enum names (`UserEmails` ->
/// `user_emails`), keyed by the columns its `and_where` compares with `.eq(..)`.
fn sea_query_statement(node: &ExprMethodCall) -> Option<Op> {
    let (methods, root, calls) = chain(node);
    if !methods
        .iter()
        .any(|m| m.starts_with("build") || m == "to_string")
    {
        return None;
    }
    let Expr::Call(start) = root else {
        return None;
    };
    let Expr::Path(function) = &*start.func else {
        return None;
    };
    let (kind, target) = match segments(&function.path).as_slice() {
        [.., query, verb] if query == "Query" => match verb.as_str() {
            "select" => (Kind::Read, "from"),
            "insert" => (Kind::Insert, "into_table"),
            "update" => (Kind::Update, "table"),
            "delete" => (Kind::Delete, "from_table"),
            _ => return None,
        },
        _ => return None,
    };
    // `X::Table` of an `Iden` enum: the enum's name in snake case.
    let iden_table = |expr: &Expr| match expr {
        Expr::Path(path) => match segments(&path.path).as_slice() {
            [.., iden, table] if table == "Table" => Some(snake(iden)),
            _ => None,
        },
        _ => None,
    };
    let table = calls
        .iter()
        .filter(|c| c.method == target)
        .find_map(|c| c.args.first().and_then(iden_table))?;
    // `and_where(Expr::col((X::Table, X::Email)).eq(..))`: `email`.
    let mut keys = Vec::new();
    for call in calls.iter().filter(|c| c.method == "and_where") {
        let Some(Expr::MethodCall(eq)) = call.args.first() else {
            continue;
        };
        let Expr::Call(col) = &*eq.receiver else {
            continue;
        };
        let column = match col.args.first() {
            Some(Expr::Tuple(pair)) => pair.elems.last(),
            other => other,
        };
        if eq.method == "eq"
            && let Some(Expr::Path(column)) = column
            && let Some(last) = column.path.segments.last()
        {
            keys.push(snake(&last.ident.to_string()));
        }
    }
    let line = function
        .path
        .segments
        .last()
        .map_or(0, |s| s.ident.span().start().line);
    let counts = |expr: &Expr| matches!(expr, Expr::MethodCall(call) if call.method == "count");
    let rows = if calls
        .iter()
        .any(|c| c.method == "expr" && c.args.first().is_some_and(counts))
    {
        Rows::Count
    } else {
        Rows::One
    };
    // (A delete of no key given is a clean-up, not the delete of a rewrite.)
    if kind == Kind::Delete && keys.is_empty() {
        return None;
    }
    Some(Op {
        keys,
        rows,
        guarded: kind == Kind::Insert && methods.iter().any(|m| m.starts_with("on_conflict")),
        ..Op::new(kind, Api::Sqlx, table, line)
    })
}

/// Columns compared with `.eq(..)` in `filter(..)` arguments: `users::email.eq(x)`,
/// `email.eq(x)`, `user::Column::Email.eq(x)`.
fn filter_keys(calls: &[&ExprMethodCall]) -> Vec<String> {
    filter_keys_of(calls, None)
}

/// The columns a chain's `filter`s compare with `eq`; with `table`, only those the filter
/// names with that table (`identities::subject.eq(..)`: a joined table's keys).
fn filter_keys_of(calls: &[&ExprMethodCall], table: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    // `calls` is outermost first: the chain's first `filter` is its last.
    for call in calls.iter().rev().filter(|c| c.method == "filter") {
        for arg in &call.args {
            collect_eq(arg, table, &mut keys);
        }
    }
    keys
}

fn collect_eq(expr: &Expr, table: Option<&str>, keys: &mut Vec<String>) {
    match expr {
        Expr::MethodCall(call) if call.method == "eq" => {
            if let Expr::Path(path) = &*call.receiver {
                let mut segs = segments(&path.path);
                let last = segs.pop().unwrap_or_default();
                let column = snake(&last);
                let of_table = table.is_none_or(|t| segs.last().is_some_and(|s| s == t));
                if of_table && !keys.contains(&column) {
                    keys.push(column);
                }
            }
        }
        Expr::MethodCall(call) => {
            collect_eq(&call.receiver, table, keys);
            for arg in &call.args {
                collect_eq(arg, table, keys);
            }
        }
        _ => {}
    }
}

/// What a query chain fetches, if it fetches: a row (`first`, `optional`, `get_result`,
/// `one`), a count (`.count()`, `SeaORM`'s `.count(db)`, `.select(count_star())`) or rows
/// (`load`, `get_results`, `all`).
fn fetched_rows(methods: &[String], calls: &[&ExprMethodCall]) -> Option<Rows> {
    let has = |names: &[&str]| methods.iter().any(|m| names.contains(&m.as_str()));
    let counts_in_select = calls.iter().any(|c| {
        c.method == "select"
            && matches!(c.args.first(), Some(Expr::Call(call)) if matches!(&*call.func,
                Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "count_star" || s.ident == "count")))
    });
    if has(&["count"]) || counts_in_select {
        Some(Rows::Count)
    } else if has(&[
        "first",
        "optional",
        "get_result",
        "one",
        "first_async",
        "get_result_async",
    ]) {
        Some(Rows::One)
    } else if has(&[
        "load",
        "get_results",
        "all",
        "load_async",
        "get_results_async",
    ]) {
        Some(Rows::Many)
    } else {
        None
    }
}

/// Diesel's `t::table.filter(..).first(..)` / `.optional()`, `SeaORM`'s
/// `t::Entity::find()..one(..)` / `find_by_id(..)..one(..)`.
fn orm_read(
    node: &ExprMethodCall,
    queries: &std::collections::HashMap<String, Source>,
    index: &Index,
) -> Option<(Op, Joined)> {
    let (_, _, calls) = chain(node);
    let mut joined = joins(&calls);
    let op = orm_read_op(node, queries, index, &mut joined)?;
    let joined = joined
        .into_iter()
        .map(|table| {
            let keys = filter_keys_of(&calls, Some(&table));
            (table, keys)
        })
        .collect();
    Some((op, joined))
}

/// Each joined table of a read, with the keys its filters name.
type Joined = Vec<(String, Vec<String>)>;

/// The tables a Diesel chain joins (`.inner_join(person::table)`, `.left_join(t::table
/// .on(..))`): a read through the join is a read of each (the row a sign-in looks up by its
/// OAuth account is absent when that account is).
fn joins(calls: &[&ExprMethodCall]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| {
            matches!(
                c.method.to_string().as_str(),
                "inner_join" | "left_join" | "left_outer_join"
            )
        })
        .filter_map(|c| {
            let mut arg = c.args.first()?;
            while let Expr::MethodCall(inner) = arg {
                arg = &inner.receiver;
            }
            let Expr::Path(path) = arg else {
                return None;
            };
            // (Named as a write's table is: `t::table`, `t::dsl::t`, `dsl::t`.)
            write_target(&segments(&path.path))
        })
        .collect()
}

/// [`orm_read`]'s read, adding to `joined` the joins of a query built earlier.
fn orm_read_op(
    node: &ExprMethodCall,
    queries: &std::collections::HashMap<String, Source>,
    index: &Index,
    joined: &mut Vec<String>,
) -> Option<Op> {
    let aliases = &index.aliases;
    let (methods, root, calls) = chain(node);
    let rows = fetched_rows(&methods, &calls)?;
    let line = fetch_line(node, &calls);
    let guarded = methods
        .iter()
        .any(|m| m == "for_update" || m == "lock_exclusive" || m == "lock_shared");
    let read = |api, table: String, keys| Op {
        keys,
        guarded,
        row_lock: guarded,
        rows,
        ..Op::new(Kind::Read, api, table, line)
    };
    if let Some(table) = related_table(&calls, aliases) {
        return Some(read(Api::SeaOrm, table, filter_keys(&calls)));
    }
    match root {
        // A query built into a variable earlier.
        Expr::Path(path)
            if let Some(Source {
                api,
                table,
                keys,
                joined: earlier,
            }) = path
                .path
                .get_ident()
                .and_then(|name| queries.get(&name.to_string())) =>
        {
            joined.extend(earlier.iter().cloned());
            let mut keys = keys.clone();
            for key in filter_keys(&calls) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            Some(read(*api, table.clone(), keys))
        }
        // Diesel: `users::table` (or `users::dsl::users`), `table` after a glob import.
        Expr::Path(path) => {
            let segs = segments(&path.path);
            let table = match segs.as_slice() {
                [.., table, last] if last == "table" => table.clone(),
                [.., table, dsl, _] if dsl == "dsl" => table.clone(),
                // `use schema::accounts::dsl;` then `dsl::accounts.filter(..)`.
                [dsl, table] if dsl == "dsl" => table.clone(),
                // `use schema::users::dsl::*;` then `users.filter(email.eq(..)).first(conn)`:
                // a bare table whose chain starts with `filter`/`find` and fetches with a
                // connection (a slice's `first()` takes none).
                // So is `users_columns::users.filter(..)` after `use schema::users::dsl as
                // users_columns;`.
                [table] | [_, table]
                    if table.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && methods.last().is_some_and(|m| m == "filter" || m == "find")
                        && calls.iter().any(|c| {
                            matches!(c.method.to_string().as_str(), "first" | "get_result")
                                && !c.args.is_empty()
                        }) =>
                {
                    aliases.get(table).unwrap_or(table).clone()
                }
                _ => return None,
            };
            Some(read(Api::Diesel, table, filter_keys(&calls)))
        }
        // Diesel: `types::Entity::table()` of a struct with a `#[diesel(table_name)]`.
        call @ Expr::Call(_) if let Some(owner) = struct_table(call) => {
            Some(read(Api::Diesel, owner, filter_keys(&calls)))
        }
        // SeaORM: `user::Entity::find()`, `Entity::find_by_id(id)`.
        Expr::Call(call) => {
            let Expr::Path(function) = &*call.func else {
                return None;
            };
            let segs = segments(&function.path);
            let (table, by_id) = seaorm_root(&segs, &methods, index)?;
            let keys = if by_id {
                vec!["id".to_owned()]
            } else {
                filter_keys(&calls)
            };
            Some(read(Api::SeaOrm, table, keys))
        }
        _ => None,
    }
}

/// The table a `SeaORM` read starting from a call reads, and whether by its id:
/// `user::Entity::find()`, `Entity::find_by_id(id)`, an alias's `User::find()`, the
/// crate's own query maker.
fn seaorm_root(segs: &[String], methods: &[String], index: &Index) -> Option<(String, bool)> {
    if let Some(table) = made_query(segs, methods, index) {
        return Some((table, false));
    }
    let (entity_at, by_id) = match segs.last().map(String::as_str) {
        Some("find_by_id") => (segs.len().checked_sub(2)?, true),
        // `find()`, or the crate's own finder on it (`Entity::find_safety()`, which
        // leaves soft-deleted rows out).
        // (SeaORM 2's loader, `Entity::load().with(..).filter(..).one(db)`, too.)
        Some(find) if find.starts_with("find") || find == "load" => {
            (segs.len().checked_sub(2)?, false)
        }
        _ => return None,
    };
    let entity = segs.get(entity_at)?;
    let table = if entity == "Entity" {
        // `user::Entity::find()`, or `Entity::find()` with the module imported.
        entity_at
            .checked_sub(1)
            .and_then(|i| segs.get(i))
            .cloned()
            .unwrap_or_else(|| "entity".to_owned())
    } else if entity_at == 0
        && entity.chars().next().is_some_and(char::is_uppercase)
        && methods
            .iter()
            .any(|m| m == "one" || m == "all" || m == "count")
    {
        // An alias: `use entity::kv_store::Entity as KVStore;` (the module is the
        // table), else the prelude's: `User::find()..one(db)` is `user::Entity`.
        entity_table(entity, &index.aliases)
    } else {
        return None;
    };
    Some((table, by_id))
}

/// The table of a `SeaORM` read that starts from the crate's own query maker
/// (`base_find().filter(..).one(db)`, `membership_query(game_id, challenge_id).count(db)`),
/// by the called path's segments and the chain's methods. (Called as a free function:
/// `Entity::find()` is never the crate's `fn find(..) -> Select<sbom_node::Entity>`.)
fn made_query(segs: &[String], methods: &[String], index: &Index) -> Option<String> {
    if segs
        .iter()
        .rev()
        .nth(1)
        .is_some_and(|owner| owner.starts_with(char::is_uppercase))
        || !methods
            .iter()
            .any(|m| m == "one" || m == "all" || m == "count")
    {
        return None;
    }
    segs.last()
        .and_then(|name| index.select_makers.get(name))
        .cloned()
}

/// A query not yet fetched, bound to a variable: its library, table, keys and joined tables.
#[derive(Debug, Clone)]
pub struct Source {
    api: Api,
    table: String,
    keys: Vec<String>,
    joined: Vec<String>,
}

/// The Diesel query a function body ends with, not yet fetched (`profile::table
/// .left_join(..)`): what a call of it makes ([`Index::query_makers`]).
pub fn makes_query(block: &syn::Block) -> Option<MadeQuery> {
    let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() else {
        return None;
    };
    let source = query_source(tail, &Aliases::new()).filter(|s| s.api == Api::Diesel)?;
    Some(MadeQuery {
        table: source.table,
        keys: source.keys,
        joined: source.joined,
    })
}

/// `SeaORM`'s `candidate.find_related(parent::Entity).all(db)`: the related entity's table.
/// (`Entity::find().find_also_related(..)` reads its own rows, with the related ones.)
fn related_table(calls: &[&ExprMethodCall], aliases: &Aliases) -> Option<String> {
    let related = calls.iter().find(|c| c.method == "find_related")?;
    let Some(Expr::Path(entity)) = related.args.first() else {
        return None;
    };
    match segments(&entity.path).as_slice() {
        [.., table, last] if last == "Entity" => Some(table.clone()),
        [alias] => Some(entity_table(alias, aliases)),
        _ => None,
    }
}

/// A query not yet fetched: Diesel's `t::table.filter(..)..` (no `first`/`load`), `SeaORM`'s
/// `t::Entity::find()..` or an entity alias's `SysDept::find()..` (no `one`/`all`).
fn query_source(expr: &Expr, aliases: &Aliases) -> Option<Source> {
    let (calls, root) = match expr {
        Expr::MethodCall(node) => {
            let (_, root, calls) = chain(node);
            (calls, root)
        }
        other => (Vec::new(), other),
    };
    let fetched = calls.iter().any(|c| {
        matches!(
            c.method.to_string().as_str(),
            "first" | "one" | "all" | "load" | "get_result" | "get_results" | "execute"
        )
    });
    if fetched {
        return None;
    }
    match root {
        Expr::Path(path) => {
            let segs = segments(&path.path);
            match segs.as_slice() {
                [.., table, last] if last == "table" => Some(Source {
                    api: Api::Diesel,
                    table: table.clone(),
                    keys: filter_keys(&calls),
                    joined: joins(&calls),
                }),
                _ => None,
            }
        }
        call @ Expr::Call(_) if let Some(owner) = struct_table(call) => Some(Source {
            api: Api::Diesel,
            table: owner,
            keys: filter_keys(&calls),
            joined: joins(&calls),
        }),
        Expr::Call(call) => {
            let Expr::Path(function) = &*call.func else {
                return None;
            };
            let segs = segments(&function.path);
            match segs.as_slice() {
                [.., table, entity, find] if entity == "Entity" && find.starts_with("find") => {
                    Some(Source {
                        api: Api::SeaOrm,
                        table: table.clone(),
                        keys: filter_keys(&calls),
                        joined: Vec::new(),
                    })
                }
                // (Read only when fetched as SeaORM's are: `s1.count(db)`, `.one(db)`.)
                [alias, find]
                    if find == "find"
                        && alias != "Entity"
                        && alias.chars().next().is_some_and(char::is_uppercase) =>
                {
                    Some(Source {
                        api: Api::SeaOrm,
                        table: entity_table(alias, aliases),
                        keys: filter_keys(&calls),
                        joined: Vec::new(),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The line of the call that fetches (`.first(..)`, `.one(..)`), not of the chain's end.
fn fetch_line(node: &ExprMethodCall, calls: &[&ExprMethodCall]) -> usize {
    calls
        .iter()
        .find(|c| {
            matches!(
                c.method.to_string().as_str(),
                "first" | "one" | "get_result" | "load" | "all" | "get_results" | "count"
            )
        })
        .map_or(node.method.span(), |c| c.method.span())
        .start()
        .line
}

/// The path of a call to a function named `name` (`diesel::insert_into(..)`, `select(..)`).
fn calls_function<'a>(node: &'a syn::ExprCall, name: &str) -> Option<&'a syn::ExprPath> {
    match &*node.func {
        Expr::Path(function)
            if function
                .path
                .segments
                .last()
                .is_some_and(|last| last.ident == name) =>
        {
            Some(function)
        }
        _ => None,
    }
}

/// Diesel's `select(exists(t::table.filter(..)))`: a read of `t`; and whether it is
/// `select(not(exists(..)))`, true when the row is missing.
fn diesel_exists(
    node: &syn::ExprCall,
    queries: &std::collections::HashMap<String, Source>,
) -> Option<(Op, bool)> {
    calls_function(node, "select")?;
    let Some(Expr::Call(first)) = node.args.first() else {
        return None;
    };
    let mut exists = first;
    let negated = calls_function(exists, "not").is_some();
    if negated {
        let Some(Expr::Call(inner)) = exists.args.first() else {
            return None;
        };
        exists = inner;
    }
    let Expr::Path(exists_fn) = &*exists.func else {
        return None;
    };
    let name = exists_fn.path.segments.last()?;
    if name.ident != "exists" {
        return None;
    }
    // `let query = t::table.filter(..); select(exists(query))`.
    if let Some(Expr::Path(var)) = exists.args.first()
        && let Some(query) = var
            .path
            .get_ident()
            .and_then(|v| queries.get(&v.to_string()))
        && query.api == Api::Diesel
    {
        let read = Op {
            keys: query.keys.clone(),
            ..Op::new(
                Kind::Read,
                Api::Diesel,
                query.table.clone(),
                name.ident.span().start().line,
            )
        };
        return Some((read, negated));
    }
    let Some(Expr::MethodCall(inner)) = exists.args.first() else {
        return None;
    };
    let (_, root, calls) = chain(inner);
    let segs = match root {
        Expr::Path(root) => segments(&root.path),
        other => vec![struct_table(other)?, "table".to_owned()],
    };
    let table = match segs.as_slice() {
        [.., table, last] if last == "table" => table.clone(),
        [.., table, dsl, _] if dsl == "dsl" => table.clone(),
        [table] => table.clone(),
        _ => return None,
    };
    let read = Op {
        keys: filter_keys(&calls),
        ..Op::new(
            Kind::Read,
            Api::Diesel,
            table,
            name.ident.span().start().line,
        )
    };
    Some((read, negated))
}

/// Diesel's `insert_into(t::table).values(..).execute(..)` and `row.insert_into(t::table)
/// .execute(..)`, read from the outermost call of its chain: `.on_conflict(..)` in the chain
/// makes it guarded.
fn diesel_insert_chain(node: &ExprMethodCall) -> Option<Op> {
    let (methods, root, calls) = chain(node);
    let mut op = if let Expr::Call(call) = root {
        diesel_insert(call)?
    } else {
        // `Insertable::insert_into`: `new_tag.insert_into(tag::table).execute(conn)`.
        let call = calls
            .iter()
            .find(|c| c.method == "insert_into" && c.args.len() == 1)?;
        let segs = match call.args.first()? {
            Expr::Path(target) => segments(&target.path),
            other => vec![struct_table(other)?, "table".to_owned()],
        };
        let table = match (write_target(&segs), segs.as_slice()) {
            (Some(table), _) => table,
            // `.insert_into(invitations_table)`, a table imported by its own name.
            (None, [table]) => table.clone(),
            _ => return None,
        };
        Op::new(
            Kind::Insert,
            Api::Diesel,
            table,
            call.method.span().start().line,
        )
    };
    op.guarded = methods
        .iter()
        .any(|m| m == "on_conflict" || m == "on_conflict_do_nothing");
    // `.on_conflict(users::uuid)`, `.on_conflict((t::a, t::b))`: the target's columns.
    if let Some(target) = calls
        .iter()
        .find(|c| c.method == "on_conflict")
        .and_then(|c| c.args.first())
    {
        let columns = match target {
            Expr::Tuple(tuple) => tuple.elems.iter().collect(),
            other => vec![other],
        };
        op.conflict = columns
            .into_iter()
            .filter_map(|c| match c {
                Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            })
            .collect();
    }
    Some(op)
}

/// The struct a Diesel `HasTable::table()` call names (`types::Entity::table()`), or a
/// `BelongingToDsl::belonging_to(..)` call: the struct's name, which [`Collector::push`]
/// turns into its `#[diesel(table_name = ..)]`.
fn struct_table(expr: &Expr) -> Option<String> {
    let Expr::Call(call) = expr else {
        return None;
    };
    let Expr::Path(function) = &*call.func else {
        return None;
    };
    match segments(&function.path).as_slice() {
        // `<T as HasTable>::table()`: the type before `as`.
        [.., table] if table == "table" && call.args.is_empty() && function.qself.is_some() => {
            let qself = function.qself.as_ref()?;
            match &*qself.ty {
                syn::Type::Path(ty) => ty.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            }
        }
        [.., owner, table] if table == "table" && call.args.is_empty() => Some(owner.clone()),
        // `TournamentUser::belonging_to(&tournament)`: the child's rows of a parent, read
        // from the child struct's table (Diesel's associations).
        [.., owner, belonging]
            if belonging == "belonging_to"
                && call.args.len() == 1
                && owner.chars().next().is_some_and(char::is_uppercase) =>
        {
            Some(owner.clone())
        }
        _ => None,
    }
}

/// The table a Diesel write names: `t::table` or `dsl::t` (`insert_into(users::table)`,
/// `update(dsl::users)`, `row.insert_into(users::table)`), or `m::t` after `use
/// schema::t::dsl as m;` (`insert_into(users_columns::users)`).
fn write_target(segs: &[String]) -> Option<String> {
    match segs {
        [.., table, last] if last == "table" => Some(table.clone()),
        [.., dsl, table] if dsl == "dsl" => Some(table.clone()),
        [_, table] if table.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
            Some(table.clone())
        }
        _ => None,
    }
}

/// An update whose table the code does not show (`diesel::update(&row)`, `model.update(db)`
/// on a model converted from a found row): it tells the intent of a branch (the code updates
/// the row it found), never a race.
pub const ANY_TABLE: &str = "";

/// The table of a generic helper whose Diesel table is a type parameter
/// (`generic_insert::<T, V>(..)` writing `insert_into(<T as HasTable>::table())`): each call
/// names it, in its turbofish (`::<<Config as HasTable>::Table, ..>`) or by the type of the
/// value it passes (`generic_insert(&db, config)` of a struct with a `table_name`).
pub const GENERIC_TABLE: &str = "$table";

/// Diesel's `diesel::update(t::table..)` (or `update(&row)`, of [`ANY_TABLE`]).
fn diesel_update(node: &syn::ExprCall) -> Option<Op> {
    let DieselStatement {
        function,
        diesel_path,
        target,
        ..
    } = diesel_statement(node, "update")?;
    let table = match target {
        Expr::Path(path) => match write_target(&segments(&path.path)) {
            Some(table) => table,
            // A bare `update(x)` that names no table is some other function.
            None if !diesel_path => return None,
            None => ANY_TABLE.to_owned(),
        },
        Expr::Reference(_) => ANY_TABLE.to_owned(),
        other if let Some(owner) = struct_table(other) => owner,
        _ if !diesel_path => return None,
        _ => ANY_TABLE.to_owned(),
    };
    let line = function.path.segments.last()?.ident.span().start().line;
    Some(Op::new(Kind::Update, Api::Diesel, table, line))
}

/// A call of Diesel's `diesel::name(..)` (or `name(..)` with the function imported) on one
/// argument: the query it is given, its chain's root and calls.
struct DieselStatement<'a> {
    function: &'a syn::ExprPath,
    /// Written `diesel::name`, not a bare `name` (which may be another function).
    diesel_path: bool,
    /// The root of the argument's chain (`t::table` in `t::table.filter(..)`).
    target: &'a Expr,
    calls: Vec<&'a ExprMethodCall>,
}

fn diesel_statement<'a>(node: &'a syn::ExprCall, name: &str) -> Option<DieselStatement<'a>> {
    let function = calls_function(node, name)?;
    let segs = segments(&function.path);
    let diesel_path = matches!(segs.as_slice(), [d, _] if d == "diesel");
    if !(diesel_path || segs.len() == 1) || node.args.len() != 1 {
        return None;
    }
    let (target, calls) = match node.args.first()? {
        Expr::MethodCall(call) => {
            let (_, root, calls) = chain(call);
            (root, calls)
        }
        other => (other, Vec::new()),
    };
    Some(DieselStatement {
        function,
        diesel_path,
        target,
        calls,
    })
}

/// Diesel's `diesel::delete(t::table.filter(..))` (`delete(..)` with the function imported).
fn diesel_delete(node: &syn::ExprCall) -> Option<Op> {
    let DieselStatement {
        function,
        target,
        calls,
        ..
    } = diesel_statement(node, "delete")?;
    let table = match target {
        Expr::Path(path) => write_target(&segments(&path.path))?,
        other => struct_table(other)?,
    };
    if !equality_filters(&calls) {
        return None;
    }
    let line = function.path.segments.last()?.ident.span().start().line;
    Some(Op::new(Kind::Delete, Api::Diesel, table, line))
}

/// Whether a chain's `filter`s (there is one at least) are all equalities (`t::k.eq(..)`,
/// joined by `and`): a delete of the row by its key, as a rewrite does, not a clean-up of
/// other rows (`thread_id.ne_all(..)`, `created.lt(..)`).
fn equality_filters(calls: &[&ExprMethodCall]) -> bool {
    fn equality(expr: &Expr) -> bool {
        match expr {
            Expr::MethodCall(call) if call.method == "eq" => true,
            Expr::MethodCall(call) if call.method == "and" => {
                equality(&call.receiver) && call.args.iter().all(equality)
            }
            Expr::Paren(inner) => equality(&inner.expr),
            _ => false,
        }
    }
    let filters: Vec<&&ExprMethodCall> = calls.iter().filter(|c| c.method == "filter").collect();
    !filters.is_empty() && filters.iter().all(|c| c.args.iter().all(equality))
}

/// `SeaORM`'s `t::Entity::delete_many()..` / `delete_by_id(..)`.
fn seaorm_delete(node: &ExprMethodCall, aliases: &Aliases) -> Option<Op> {
    if !node.method.to_string().starts_with("exec") {
        return None;
    }
    let (_, root, calls) = chain(node);
    let Expr::Call(call) = root else {
        return None;
    };
    let Expr::Path(function) = &*call.func else {
        return None;
    };
    let segs = segments(&function.path);
    let by_id = segs.last().is_some_and(|last| last == "delete_by_id");
    if !by_id && !equality_filters(&calls) {
        return None;
    }
    let table = match segs.as_slice() {
        [.., table, entity, delete]
            if entity == "Entity" && (delete == "delete_many" || delete == "delete_by_id") =>
        {
            table.clone()
        }
        [alias, delete]
            if (delete == "delete_many" || delete == "delete_by_id")
                && alias.chars().next().is_some_and(char::is_uppercase) =>
        {
            entity_table(alias, aliases)
        }
        _ => return None,
    };
    Some(Op::new(
        Kind::Delete,
        Api::SeaOrm,
        table,
        node.method.span().start().line,
    ))
}

/// Diesel's `insert_into(t::table)` on its own.
fn diesel_insert(node: &syn::ExprCall) -> Option<Op> {
    let function = calls_function(node, "insert_into")?;
    let segs = match node.args.first()? {
        Expr::Path(target) => segments(&target.path),
        other => vec![struct_table(other)?, "table".to_owned()],
    };
    let table = match (write_target(&segs), segs.as_slice()) {
        (Some(table), _) => table,
        // `insert_into(users)` after a glob import.
        (None, [table]) => table.clone(),
        _ => return None,
    };
    let line = function.path.segments.last()?.ident.span().start().line;
    Some(Op::new(Kind::Insert, Api::Diesel, table, line))
}

/// `SeaORM`'s `t::Entity::insert(model)..exec(db)` and `t::ActiveModel { .. }.insert(db)`.
fn seaorm_insert(node: &ExprMethodCall, aliases: &Aliases) -> Option<Op> {
    let (methods, root, calls) = chain(node);
    let guarded = methods.iter().any(|m| m.starts_with("on_conflict"));
    // The line of the call that inserts: `Entity::insert(` (its model may run on for
    // lines before `.exec(db)`), or the model's `.insert(db)`.
    let mut line = node.method.span().start().line;
    let table = match root {
        Expr::Call(call) => {
            let Expr::Path(function) = &*call.func else {
                return None;
            };
            if let Some(last) = function.path.segments.last() {
                line = last.ident.span().start().line;
            }
            let segs = segments(&function.path);
            match segs.as_slice() {
                [.., table, entity, insert]
                    if entity == "Entity" && (insert == "insert" || insert == "insert_many") =>
                {
                    table.clone()
                }
                // `Entity::insert(..)` with the module imported.
                [entity, insert] if entity == "Entity" && insert == "insert" => "entity".to_owned(),
                // The prelude's alias: `CrateUser::insert(model).exec(db)` is
                // `crate_user::Entity` (`exec` tells it from a Diesel model's own `insert`).
                [alias, insert]
                    if (insert == "insert" || insert == "insert_many")
                        && alias.chars().next().is_some_and(char::is_uppercase)
                        && methods.iter().any(|m| m.starts_with("exec")) =>
                {
                    entity_table(alias, aliases)
                }
                _ => return None,
            }
        }
        Expr::Struct(literal) if methods.last().map(String::as_str) == Some("insert") => {
            // (`.insert(db)` itself, not a `.context(..)` after it.)
            if let Some(insert) = calls.last() {
                line = insert.method.span().start().line;
            }
            let segs = segments(&literal.path);
            match segs.as_slice() {
                [.., table, model] if model == "ActiveModel" => table.clone(),
                [model] if model == "ActiveModel" => "entity".to_owned(),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Op {
        guarded,
        ..Op::new(Kind::Insert, Api::SeaOrm, table, line)
    })
}
