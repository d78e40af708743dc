//! Which of the crate's functions run only once, at startup: the ones every caller of which
//! runs once and calls them directly. A function run once cannot race itself, so a read
//! and an insert in it, or in what it calls, are not a finding (`SafeBy::OneShot`).
//!
//! Calls are matched by name, as a user reads them: `seed_admin(..)` in `main` and nowhere
//! else makes `seed_admin` one-shot. A call in a function of its own name does not count
//! (recursion, or a wrapper handing the call on: `self.inner.ensure_user(..)`), and a call
//! in the closure of an `Option` or `Result` combinator (`.unwrap_or_else(|_| ..)`) is
//! direct: that closure runs there and then, at most once; so is a call in the `async`
//! block given to `block_on`, which runs before it returns. What a `static` cell's
//! initialiser calls runs once, wherever the cell is read (`LOCAL_USER.get_or_init(|| ..)`).
//! Anything else keeps a function out:
//! - a call in a loop, a closure or an `async` block (a worker spawned from `main`, a
//!   periodic job: it runs many times, or beside other work);
//! - the function used as a value (`post(create_user)` in a router, a callback), also named
//!   in a macro's input and not called there (`routes!(handlers::upload_plugin)`);
//! - a caller that is not one-shot itself; no caller at all (a route handler registered by
//!   an attribute, a library's public function).
//!
//! Test code calls nothing here: a function a test also calls keeps its status.
//!
//! The same walk finds the functions that run only under a process-wide lock
//! ([`Found::locked`]): a function that holds a guard of a `static` mutex from its first
//! statements (`let _guard = NAG_LOCK.lock();`), and a function every caller of which runs
//! under it and calls it outside a closure or an `async` block (a loop is fine: the guard
//! is held across it). Two such functions cannot interleave in one process
//! (`SafeBy::Lock`). So is a function called only inside the closure of a transaction that
//! takes SQLite's write lock at its start (Diesel's `conn.immediate_transaction(|c| ..)` and
//! `exclusive_transaction`, or a function of the crate that wraps one): writers run one at a
//! time, across processes too.

use std::collections::{HashMap, HashSet};

use syn::visit::Visit;

use super::index::is_test_code as is_test;

/// The names of the crate's functions that run only once.
pub type OneShot = HashSet<String>;

/// What the callers' walk finds.
#[derive(Debug, Default)]
pub struct Found {
    /// The functions that run only once.
    pub one_shot: OneShot,
    /// The functions that run only while a process-wide lock is held.
    pub locked: HashSet<String>,
    /// The functions that open a transaction holding SQLite's write lock from `BEGIN`
    /// (call one of [`WRITE_LOCKING`]): what runs in the closure given them cannot race.
    pub write_lockers: HashSet<String>,
}

/// One use of a function's name.
struct Use {
    /// The function it is in.
    from: String,
    /// A plain call, not in a loop, closure or `async` block.
    direct: bool,
    /// In a closure or an `async` block (which may run after the caller's guard is gone).
    deferred: bool,
    /// The calls whose closure argument it is in, innermost last (`exclusive_transaction`
    /// in `exclusive_transaction(conn, |c| create(c))`).
    within_closures_of: Vec<String>,
}

/// The uses of every name, the functions each file defines, and the ones known to run once.
#[derive(Default)]
struct Uses {
    by_name: HashMap<String, Vec<Use>>,
    /// The function being visited, innermost last.
    within: Vec<String>,
    /// How many loops, closures and `async` blocks deep, per function being visited.
    indirect: Vec<usize>,
    /// How many closures and `async` blocks deep, per function being visited.
    deferred: Vec<usize>,
    /// The functions that take a process-wide lock first.
    lockers: HashSet<String>,
    /// The calls being visited whose closure argument is being visited, innermost last.
    closures_of: Vec<String>,
    /// The functions that open a transaction holding SQLite's write lock from its start.
    write_lockers: HashSet<String>,
    /// The functions known to run once from their name.
    seeds: HashSet<String>,
    /// The names of functions defined in one-shot files, and of those defined elsewhere: a
    /// name runs once by its file only when every definition is in such a file.
    in_one_shot_files: HashSet<String>,
    elsewhere: HashSet<String>,
    /// The file being visited is one-shot code (a command-line tool, migrations).
    one_shot_file: bool,
    /// The names each function being visited binds (its parameters, `let`s, patterns),
    /// innermost last: a plain name in a macro's input that is one of them is a variable.
    locals: Vec<HashSet<String>>,
}

impl Uses {
    fn name_used(&mut self, name: String, call: bool) {
        let (Some(from), Some(&depth), Some(&deferred)) = (
            self.within.last(),
            self.indirect.last(),
            self.deferred.last(),
        ) else {
            return;
        };
        self.by_name.entry(name).or_default().push(Use {
            from: from.clone(),
            direct: call && depth == 0,
            deferred: !call || deferred > 0,
            within_closures_of: self.closures_of.clone(),
        });
    }

    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) {
        if is_test(attrs) {
            return;
        }
        let name = sig.ident.to_string();
        if starts_once(&name) {
            self.seeds.insert(name.clone());
        }
        if self.one_shot_file {
            self.in_one_shot_files.insert(name.clone());
        } else {
            self.elsewhere.insert(name.clone());
        }
        if block.stmts.iter().any(takes_static_lock) {
            self.lockers.insert(name.clone());
        }
        self.within.push(name);
        self.indirect.push(0);
        self.deferred.push(0);
        self.locals.push(bound_names(sig, block));
        self.visit_block(block);
        self.locals.pop();
        self.deferred.pop();
        self.indirect.pop();
        self.within.pop();
    }

    /// Visits a call's arguments: a closure among them as within the call's closure. The
    /// closure of an `Option` or `Result` combinator runs at once, at most once, so what it
    /// calls is called directly (`read(c).or_else(|_| create(c))`).
    fn arguments(
        &mut self,
        call: &str,
        args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
    ) {
        for arg in args {
            // `runtime.block_on(async move { .. })`: the block runs before `block_on`
            // returns, as the caller's own code (a `main` without `#[tokio::main]`).
            if let syn::Expr::Async(block) = arg
                && call == "block_on"
            {
                self.visit_block(&block.block);
            } else if let syn::Expr::Closure(closure) = arg {
                self.closures_of.push(call.to_owned());
                if AT_ONCE.contains(&call) {
                    self.visit_expr(&closure.body);
                } else {
                    self.visit_expr(arg);
                }
                self.closures_of.pop();
            } else {
                self.visit_expr(arg);
            }
        }
    }

    /// The names in a macro's tokens not followed by an argument list, a `!`, a method
    /// call or a binding's `=>`/`=`: a path's last name, or a plain name the function
    /// does not bind (see [`Uses::visit_macro`]).
    fn named_in(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::{Delimiter, TokenTree};
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (at, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Ident(ident) => {
                    let after_punct = |c: char| {
                        at > 0 && matches!(&tokens[at - 1], TokenTree::Punct(p) if p.as_char() == c)
                    };
                    // (A plain name is as often a variable, as in `ok_or!(process, why
                    // => ..)`: one the function binds is left alone. So is a field or a
                    // method after a `.`, and a macro's own binding, `$name`.)
                    let name = ident.to_string();
                    let plain = at == 0
                        || matches!(&tokens[at - 1], TokenTree::Punct(p) if p.as_char() == ',')
                        || matches!(&tokens[at - 1], TokenTree::Ident(_));
                    let value = after_punct(':')
                        || (plain
                            && !after_punct('$')
                            && !self
                                .locals
                                .last()
                                .is_some_and(|locals| locals.contains(&name)));
                    let called_or_path = match tokens.get(at + 1) {
                        Some(TokenTree::Group(group)) => {
                            group.delimiter() == Delimiter::Parenthesis
                        }
                        Some(TokenTree::Punct(punct)) => {
                            matches!(punct.as_char(), '!' | ':' | '.' | '=')
                        }
                        _ => false,
                    };
                    if value && !called_or_path {
                        self.name_used(name, false);
                    }
                }
                TokenTree::Group(group) => self.named_in(group.stream()),
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }

    /// Visits a loop (`deferred: false`), or a closure or an `async` block.
    fn deeper(&mut self, deferred: bool, visit: impl FnOnce(&mut Self)) {
        if let Some(depth) = self.indirect.last_mut() {
            *depth += 1;
        }
        if deferred && let Some(depth) = self.deferred.last_mut() {
            *depth += 1;
        }
        visit(self);
        if let Some(depth) = self.indirect.last_mut() {
            *depth -= 1;
        }
        if deferred && let Some(depth) = self.deferred.last_mut() {
            *depth -= 1;
        }
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if !is_test(&node.attrs) {
            syn::visit::visit_item_mod(self, node);
        }
    }
    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if !is_test(&node.attrs) {
            syn::visit::visit_item_impl(self, node);
        }
    }
    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.function(&node.attrs, &node.sig, &node.block);
    }
    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.function(&node.attrs, &node.sig, &node.block);
    }
    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        if let Some(block) = &node.default {
            self.function(&node.attrs, &node.sig, block);
        }
    }
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*node.func
            && let Some(last) = path.path.segments.last()
        {
            let name = last.ident.to_string();
            self.name_used(name.clone(), true);
            self.arguments(&name, &node.args);
        } else {
            syn::visit::visit_expr_call(self, node);
        }
    }
    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let name = node.method.to_string();
        self.name_used(name.clone(), true);
        if WRITE_LOCKING.contains(&name.as_str())
            && let Some(function) = self.within.last()
        {
            self.write_lockers.insert(function.clone());
        }
        self.visit_expr(&node.receiver);
        let call = if once_per_process(node) {
            ONCE_PER_PROCESS
        } else {
            &name
        };
        self.arguments(call, &node.args);
    }
    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        // A function used as a value: a handler given to a router, a callback.
        if let Some(last) = node.path.segments.last() {
            self.name_used(last.ident.to_string(), false);
        }
    }
    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        // A name in a macro's input that is not called there, a value the macro does
        // something with: `routes!(handlers::admin::upload_plugin)` registers a handler,
        // which runs on every request.
        self.named_in(node.tokens.clone());
    }
    fn visit_expr_closure(&mut self, node: &'ast syn::ExprClosure) {
        self.deeper(true, |this| syn::visit::visit_expr_closure(this, node));
    }
    fn visit_expr_async(&mut self, node: &'ast syn::ExprAsync) {
        self.deeper(true, |this| syn::visit::visit_expr_async(this, node));
    }
    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.deeper(false, |this| syn::visit::visit_expr_for_loop(this, node));
    }
    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        self.deeper(false, |this| syn::visit::visit_expr_while(this, node));
    }
    fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
        self.deeper(false, |this| syn::visit::visit_expr_loop(this, node));
    }
}

/// The names a function binds: its parameters and every pattern in its body (`let`s,
/// `match` arms, closures' parameters).
fn bound_names(sig: &syn::Signature, block: &syn::Block) -> HashSet<String> {
    struct Bound(HashSet<String>);
    impl<'ast> Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            self.0.insert(node.ident.to_string());
            syn::visit::visit_pat_ident(self, node);
        }
    }
    let mut bound = Bound(HashSet::new());
    for input in &sig.inputs {
        bound.visit_fn_arg(input);
    }
    bound.visit_block(block);
    bound.0
}

/// Whether a statement binds a guard of a process-wide lock for the rest of the block:
/// `let _guard = NAG_LOCK.lock();` (also with `.await`, `?`, `.unwrap()` or `.expect(..)`),
/// on a `static` named in capitals, as `lazy_static!` and `static` items are.
fn takes_static_lock(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    // (`write` of a static `RwLock` too; `Field`/`&` after the guard as well.)
    super::index::lock_call(&init.expr).is_some_and(|call| {
        matches!(call.method.to_string().as_str(), "lock" | "write")
            && matches!(&*call.receiver, syn::Expr::Path(path)
                if path.path.segments.last().is_some_and(|s| is_static_name(&s.ident)))
    })
}

/// `Option` and `Result` methods whose closure runs before they return, at most once.
const AT_ONCE: &[&str] = &[
    "or_else",
    "unwrap_or_else",
    "ok_or_else",
    "map_or_else",
    "and_then",
    "map_err",
];

/// Stands for the call in [`Use::within_closures_of`] when the closure is a `static`
/// cell's initialiser (see [`once_per_process`]).
const ONCE_PER_PROCESS: &str = "<once per process>";

/// Whether a call runs its closure once in the process: the initialiser of a `static`
/// cell (`LOCAL_USER.get_or_init(|| ..)`, `get_or_try_init`, `call_once` of a `Once`).
pub fn once_per_process(call: &syn::ExprMethodCall) -> bool {
    matches!(
        call.method.to_string().as_str(),
        "get_or_init" | "get_or_try_init" | "call_once"
    ) && matches!(&*call.receiver, syn::Expr::Path(path)
        if path.path.segments.last().is_some_and(|s| is_static_name(&s.ident)))
}

/// Diesel's SQLite transactions that take the write lock at `BEGIN` (`BEGIN IMMEDIATE`,
/// `BEGIN EXCLUSIVE`): a read and an insert in one cannot be split by another writer.
pub const WRITE_LOCKING: [&str; 2] = ["immediate_transaction", "exclusive_transaction"];

/// Whether a name is written as a `static`'s is (`NAG_LOCK`, `DB2`): capitals, digits and
/// underscores, longer than one letter (not a generic parameter `T`).
fn is_static_name(ident: &syn::Ident) -> bool {
    let name = ident.to_string();
    name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Whether a function's name says it runs once: `main`, a constructor, set-up and
/// migrations, seeding (see [`ONCE`]).
fn starts_once(name: &str) -> bool {
    ONCE.contains(&name)
        || ["seed_", "init_", "initialize_", "bootstrap_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Functions that run once, before or apart from concurrent work.
const ONCE: &[&str] = &[
    "new",
    "main",
    "init",
    "initialize",
    "bootstrap",
    "migrate",
    "run_migrations",
    "startup",
    "seed",
];

/// The functions of `files` (each with whether it is one-shot code by its place) that run
/// only once: named so, defined only in one-shot files, or called only directly by such
/// functions; and those that run only under a process-wide lock.
pub fn walk<'a>(files: impl Iterator<Item = (&'a syn::File, bool)>) -> Found {
    let mut uses = Uses::default();
    for (file, one_shot_file) in files {
        uses.one_shot_file = one_shot_file;
        uses.visit_file(file);
    }
    let mut once = uses.seeds.clone();
    once.extend(uses.in_one_shot_files.difference(&uses.elsewhere).cloned());
    let once = closure(&uses, once, |u, set| {
        (u.direct && set.contains(&u.from))
            || u.within_closures_of
                .iter()
                .any(|call| call == ONCE_PER_PROCESS)
    });
    let write_locking: HashSet<&str> = WRITE_LOCKING
        .iter()
        .copied()
        .chain(uses.write_lockers.iter().map(String::as_str))
        .collect();
    let locked = closure(&uses, uses.lockers.clone(), |u, set| {
        (!u.deferred && set.contains(&u.from))
            || u.within_closures_of
                .iter()
                .any(|call| write_locking.contains(call.as_str()))
    });
    Found {
        one_shot: once,
        locked,
        write_lockers: uses.write_lockers,
    }
}

/// `start` and every function all of whose uses pass `through` the set, repeatedly.
fn closure(
    uses: &Uses,
    mut set: HashSet<String>,
    through: impl Fn(&Use, &HashSet<String>) -> bool,
) -> HashSet<String> {
    loop {
        let more: Vec<String> = uses
            .by_name
            .iter()
            .filter(|(name, by)| {
                // (A use in a function of the same name is recursion, or a wrapper that
                // hands the call on, `self.inner.ensure_user(..)`: it runs when that does.)
                let mut by = by.iter().filter(|u| u.from != **name).peekable();
                !set.contains(*name) && by.peek().is_some() && by.all(|u| through(u, &set))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            return set;
        }
        set.extend(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn once(source: &str) -> OneShot {
        found(source).one_shot
    }

    fn found(source: &str) -> Found {
        let file = syn::parse_file(source).expect("test source parses");
        walk(std::iter::once((&file, false)))
    }

    #[test]
    fn called_only_under_a_static_lock_runs_locked() {
        let found = found(
            "static SYNC_LOCK: Mutex<()> = Mutex::new(());
             fn update(c: &Comment) {
                 let _guard = SYNC_LOCK.lock().unwrap();
                 for command in commands(c) { command.apply(); }
             }
             fn apply(&self) { record_vote(); }
             fn record_vote() {}
             fn handler() { spawn_later(); }
             fn spawn_later() {}
             fn deferred() { let _g = SYNC_LOCK.lock(); tokio::spawn(async { late() }); }
             fn late() {}",
        );
        for name in ["update", "apply", "record_vote", "deferred"] {
            assert!(found.locked.contains(name), "{name} not taken for locked");
        }
        for name in ["handler", "spawn_later", "late"] {
            assert!(!found.locked.contains(name), "{name} taken for locked");
        }
    }

    #[test]
    fn called_only_from_main_runs_once() {
        let found = once(
            "fn main() { seed_admin(); setup(&db); }
             fn setup(db: &Db) { create_defaults(db); }
             fn create_defaults(db: &Db) {}",
        );
        assert!(found.contains("setup"));
        assert!(found.contains("create_defaults"));
    }

    #[test]
    fn a_handler_a_loop_or_a_second_caller_keeps_a_function_out() {
        let found = once(
            "fn main() {
                 let app = Router::new().route(\"/u\", post(create_user));
                 for job in jobs { import(job); }
                 tokio::spawn(async move { refresh().await });
                 sync();
             }
             fn create_user() {}
             fn import(job: Job) {}
             fn refresh() {}
             fn sync() {}
             fn handler() { sync(); }
             fn orphan() {}",
        );
        for name in [
            "create_user",
            "import",
            "refresh",
            "sync",
            "handler",
            "orphan",
        ] {
            assert!(!found.contains(name), "{name} taken for one-shot");
        }
    }

    #[test]
    fn a_name_also_defined_outside_one_shot_files_is_not_one_shot_by_its_file() {
        let tool =
            syn::parse_file("async fn add_category() {} async fn seed_only() {}").expect("parses");
        let service = syn::parse_file("async fn add_category() {}").expect("parses");
        let found = walk([(&tool, true), (&service, false)].into_iter()).one_shot;
        assert!(found.contains("seed_only"));
        assert!(!found.contains("add_category"));
    }

    #[test]
    fn a_static_cells_initialiser_and_a_combinators_closure_call_directly() {
        let found = once(
            "static LOCAL_USER: OnceCell<User> = OnceCell::new();
             fn cached_local_user(c: &Conn) -> &User {
                 LOCAL_USER.get_or_init(|| local_user_uncached(c).expect(\"user\"))
             }
             fn local_user_uncached(c: &Conn) -> Result<User> { find(c) }
             fn main() { let config = load(c).unwrap_or_else(|_| write_defaults(c)); }
             fn write_defaults(c: &Conn) {}
             fn handler(c: &Conn) { let cell = OnceCell::new(); cell.get_or_init(|| per_call(c)); }
             fn per_call(c: &Conn) {}",
        );
        for name in ["local_user_uncached", "write_defaults"] {
            assert!(found.contains(name), "{name} not taken for one-shot");
        }
        for name in ["cached_local_user", "per_call"] {
            assert!(!found.contains(name), "{name} taken for one-shot");
        }
    }

    #[test]
    fn what_main_blocks_on_runs_in_main() {
        let found = once(
            "fn main() {
                 let runtime = Runtime::new().unwrap();
                 runtime.block_on(async move { ensure_admin_user(&db).await; serve().await });
             }
             async fn ensure_admin_user(db: &Db) {}
             fn handler() { runtime.spawn(async { later().await }); }
             async fn later() {}",
        );
        assert!(found.contains("ensure_admin_user"));
        assert!(!found.contains("later"));
    }

    #[test]
    fn a_handler_a_macro_registers_is_not_one_shot_by_a_namesakes_callers() {
        let found = once(
            "fn main() {
                 upload_plugin(&archive); bind(); level();
                 let level = 2; ok_or!(level, why => {});
             }
             fn upload_plugin(archive: &Archive) {}
             fn router() -> Router { Router::new().routes(routes!(handlers::admin::upload_plugin)) }
             fn bind() {}
             fn idp_router() -> Router { Router::new().routes(routes!(get_idp, bind)) }
             fn level() { let level = 1; }",
        );
        assert!(!found.contains("upload_plugin"));
        // (A plain name too, unless the function binds it: `level` is a variable there,
        // and stays one-shot.)
        assert!(!found.contains("bind"));
        assert!(found.contains("level"));
    }

    #[test]
    fn a_wrapper_of_the_same_name_runs_when_its_caller_does() {
        let found = once(
            "fn main() { setup(); }
             fn setup() { service.ensure_admin(); }
             impl Service { fn ensure_admin(&self) { self.repository.ensure_admin() } }
             impl Repository { fn ensure_admin(&self) {} }
             fn walk(node: &Node) { walk(node.child()) }
             fn handler() { walk(root) }",
        );
        assert!(found.contains("ensure_admin"));
        assert!(!found.contains("walk"));
    }

    #[test]
    fn a_test_calling_a_startup_function_changes_nothing() {
        let found = once(
            "fn main() { setup(); }
             fn setup() {}
             #[cfg(test)] mod tests { #[test] fn t() { super::setup(); } }",
        );
        assert!(found.contains("setup"));
    }
}
