//! What a function does to the database, in source order: the reads and writes the audit
//! recognizes in sqlx, Diesel and `SeaORM` code, each with its table, its key columns when
//! they can be inferred, whether it is safe on its own (`ON CONFLICT`, `FOR UPDATE`), and
//! whether it sits on a branch.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Expr, ExprMethodCall, Lit};

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

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads rows (`SELECT`, `.first()`, `.one()`).
    Read,
    /// Inserts rows.
    Insert,
    /// Updates rows (an UPDATE whose "no row" result may decide an INSERT).
    Update,
}

/// One database operation in a function.
#[derive(Debug, Clone)]
pub struct Op {
    pub kind: Kind,
    pub api: Api,
    /// The table, unquoted, lower case, without schema.
    pub table: String,
    /// Key columns from the read's `WHERE` (or `filter`), in order.
    pub keys: Vec<String>,
    /// The insert's columns, when the SQL lists them.
    pub columns: Vec<String>,
    /// `ON CONFLICT` on an insert, `FOR UPDATE`/`FOR SHARE` on a read: not racy on its own.
    pub guarded: bool,
    /// Inside a branch (`if`, `else`, a `match` arm, a closure such as `unwrap_or_else`).
    pub in_branch: bool,
    /// The branches it sits in, outermost first (each arm its own id).
    pub path: Vec<usize>,
    /// Position in the function, in visiting (source) order.
    pub order: usize,
    /// Where it is, 1-based.
    pub line: usize,
}

/// Everything one function does, for the race rule.
#[derive(Debug, Default)]
pub struct FnOps {
    pub ops: Vec<Op>,
    /// Early exits (`return`, `continue`, `break`) inside a branch: their order and branch
    /// path.
    pub early_returns: Vec<(usize, Vec<usize>)>,
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
    /// The branch ids enclosing the current position.
    path: Vec<usize>,
    /// The last branch id handed out.
    ids: usize,
    order: usize,
}

impl Collector {
    fn next(&mut self) -> usize {
        self.order += 1;
        self.order
    }

    fn push(&mut self, mut op: Op) {
        op.order = self.next();
        op.in_branch = !self.path.is_empty();
        op.path.clone_from(&self.path);
        self.found.ops.push(op);
    }

    /// Visits one arm of a branch (each call a new arm).
    fn branch<F: FnOnce(&mut Self)>(&mut self, visit: F) {
        self.ids += 1;
        self.path.push(self.ids);
        visit(self);
        self.path.pop();
    }

    fn early_exit(&mut self) {
        if !self.path.is_empty() {
            let order = self.next();
            self.found.early_returns.push((order, self.path.clone()));
        }
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
        self.visit_expr(&node.cond);
        self.branch(|this| this.visit_block(&node.then_branch));
        if let Some((_, otherwise)) = &node.else_branch {
            self.branch(|this| this.visit_expr(otherwise));
        }
    }

    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        self.visit_expr(&node.expr);
        for arm in &node.arms {
            self.branch(|this| this.visit_arm(arm));
        }
    }

    fn visit_local(&mut self, node: &'ast syn::Local) {
        // `let .. else { return }`: the else block is a branch.
        if let Some(init) = &node.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.branch(|this| this.visit_expr(diverge));
            }
        }
    }

    fn visit_expr_return(&mut self, node: &'ast syn::ExprReturn) {
        if let Some(value) = &node.expr {
            self.visit_expr(value);
        }
        self.early_exit();
    }

    fn visit_expr_try(&mut self, node: &'ast syn::ExprTry) {
        self.visit_expr(&node.expr);
        // `found.is_none().then_some(())?` in a function returning `Option`: the `?` returns
        // early on one outcome of the read, a branch of its own.
        if decides(&node.expr) {
            self.ids += 1;
            self.path.push(self.ids);
            self.early_exit();
            self.path.pop();
        }
    }

    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        self.early_exit();
    }

    fn visit_expr_break(&mut self, node: &'ast syn::ExprBreak) {
        if let Some(value) = &node.expr {
            self.visit_expr(value);
        }
        self.early_exit();
    }

    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {
        // A nested function is a function of its own.
    }

    fn visit_lit_str(&mut self, node: &'ast syn::LitStr) {
        if let Some(op) = sql_op(&node.value(), node.span()) {
            self.push(op);
        }
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        // `query!("..")`, `query_as!(T, "..")`, `format!`-built SQL: the literals inside.
        for literal in string_literals(node.tokens.clone()) {
            if let Some(op) = sql_op(&literal.0, literal.1) {
                self.push(op);
            }
        }
    }

    fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
        let method = node.method.to_string();
        if BRANCH_METHODS.contains(&method.as_str()) {
            self.visit_expr(&node.receiver);
            self.branch(|this| {
                for arg in &node.args {
                    this.visit_expr(arg);
                }
            });
            return;
        }
        if let Some(op) = orm_read(node) {
            self.push(op);
            // The chain below is the read's own; its arguments are values.
            return;
        }
        if let Some(op) = seaorm_insert(node).or_else(|| diesel_insert_chain(node)) {
            self.push(op);
            return;
        }
        // The receiver and the arguments run first.
        self.visit_expr(&node.receiver);
        for arg in &node.args {
            self.visit_expr(arg);
        }
        self.helper_call(&node.method);
    }

    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let Some(op) = diesel_insert(node) {
            self.push(op);
        } else if let Expr::Path(function) = &*node.func
            && let Some(name) = function.path.segments.last()
        {
            self.helper_call(&name.ident);
        }
        syn::visit::visit_expr_call(self, node);
    }
}

/// What a function of the audited code does, seen from its callers.
#[derive(Debug, Clone)]
pub struct Helper {
    pub kind: Kind,
    pub api: Api,
    pub table: String,
    pub keys: Vec<String>,
    pub columns: Vec<String>,
}

/// Helpers by function name; a name two functions share with different effects is left
/// out (a call to it could be either).
pub type Helpers = std::collections::HashMap<String, Helper>;

impl Collector {
    /// A collector of function `own` that knows `helpers`.
    pub fn with(helpers: std::rc::Rc<Helpers>, own: &str) -> Self {
        Collector {
            helpers,
            own: own.to_owned(),
            ..Collector::default()
        }
    }

    /// A call to a helper is its operation, at the call site.
    fn helper_call(&mut self, name: &syn::Ident) {
        let name_text = name.to_string();
        if name_text == self.own {
            return;
        }
        if let Some(helper) = self.helpers.get(&name_text).cloned() {
            self.push(Op {
                kind: helper.kind,
                api: helper.api,
                table: helper.table,
                keys: helper.keys,
                columns: helper.columns,
                guarded: false,
                in_branch: false,
                path: Vec::new(),
                order: 0,
                line: name.span().start().line,
            });
        }
    }
}

/// What a function is to its callers: an inserter of a table (an unguarded insert and no
/// read of that table before it) or a reader of a table (an unguarded read and no insert
/// into it). `None` for a function that does both, or neither.
pub fn helper_of(found: &FnOps) -> Option<Helper> {
    let inserts: Vec<&Op> = found
        .ops
        .iter()
        .filter(|o| o.kind == Kind::Insert && !o.guarded)
        .collect();
    let reads: Vec<&Op> = found
        .ops
        .iter()
        .filter(|o| o.kind == Kind::Read && !o.guarded)
        .collect();
    let helper = |op: &Op, kind| Helper {
        kind,
        api: op.api,
        table: op.table.clone(),
        keys: op.keys.clone(),
        columns: op.columns.clone(),
    };
    match (reads.as_slice(), inserts.as_slice()) {
        ([], [insert]) => Some(helper(insert, Kind::Insert)),
        ([read], []) => Some(helper(read, Kind::Read)),
        _ => None,
    }
}

/// Whether `expr` turns a read's result into a `bool` and that into an `Option`
/// (`is_none()`, `is_some()`, `then_some(..)`, `then(..)`): a `?` on it is a decision.
/// (Not `filter`: Diesel's query builder has one.)
fn decides(expr: &Expr) -> bool {
    match expr {
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
            if matches!(c, '(' | ')' | ',' | '=') {
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
        kind,
        api: Api::Sqlx,
        table,
        keys,
        columns,
        guarded,
        in_branch: false,
        path: Vec::new(),
        order: 0,
        line: span.start().line,
    };
    match first {
        "select" => {
            let table = after("from")?;
            let keys = where_keys(&w);
            let guarded = w
                .windows(2)
                .any(|p| p[0] == "for" && (p[1] == "update" || p[1] == "share" || p[1] == "no"));
            Some(op(Kind::Read, table, keys, Vec::new(), guarded))
        }
        "insert" => {
            let table = after("into")?;
            let columns = insert_columns(&w);
            // PostgreSQL/SQLite `ON CONFLICT`, MySQL `ON DUPLICATE KEY` and `INSERT IGNORE`,
            // SQLite `INSERT OR IGNORE/REPLACE`.
            let guarded = has("conflict")
                || has("duplicate")
                || w.get(1).is_some_and(|t| t == "ignore" || t == "or");
            Some(op(Kind::Insert, table, Vec::new(), columns, guarded))
        }
        "update" => {
            let table = after("update")?;
            Some(op(Kind::Update, table, where_keys(&w), Vec::new(), false))
        }
        _ => None,
    }
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

/// The path's segments as strings.
fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
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

/// Columns compared with `.eq(..)` in `filter(..)` arguments: `users::email.eq(x)`,
/// `email.eq(x)`, `user::Column::Email.eq(x)`.
fn filter_keys(calls: &[&ExprMethodCall]) -> Vec<String> {
    let mut keys = Vec::new();
    for call in calls.iter().filter(|c| c.method == "filter") {
        for arg in &call.args {
            collect_eq(arg, &mut keys);
        }
    }
    keys
}

fn collect_eq(expr: &Expr, keys: &mut Vec<String>) {
    match expr {
        Expr::MethodCall(call) if call.method == "eq" => {
            if let Expr::Path(path) = &*call.receiver {
                let last = segments(&path.path).pop().unwrap_or_default();
                let column = snake(&last);
                if !keys.contains(&column) {
                    keys.push(column);
                }
            }
        }
        Expr::MethodCall(call) => {
            collect_eq(&call.receiver, keys);
            for arg in &call.args {
                collect_eq(arg, keys);
            }
        }
        _ => {}
    }
}

/// Diesel's `t::table.filter(..).first(..)` / `.optional()`, `SeaORM`'s
/// `t::Entity::find()..one(..)` / `find_by_id(..)..one(..)`.
fn orm_read(node: &ExprMethodCall) -> Option<Op> {
    let (methods, root, calls) = chain(node);
    let reads = methods
        .iter()
        .any(|m| matches!(m.as_str(), "first" | "optional" | "get_result" | "one"));
    if !reads {
        return None;
    }
    // The line of the call that fetches (`.first(..)`, `.one(..)`), not of the chain's end.
    let line = calls
        .iter()
        .find(|c| {
            matches!(
                c.method.to_string().as_str(),
                "first" | "one" | "get_result"
            )
        })
        .map_or(node.method.span(), |c| c.method.span())
        .start()
        .line;
    let guarded = methods
        .iter()
        .any(|m| m == "for_update" || m == "lock_exclusive" || m == "lock_shared");
    let read = |api, table: String, keys| Op {
        kind: Kind::Read,
        api,
        table,
        keys,
        columns: Vec::new(),
        guarded,
        in_branch: false,
        path: Vec::new(),
        order: 0,
        line,
    };
    match root {
        // Diesel: `users::table` (or `users::dsl::users`), `table` after a glob import.
        Expr::Path(path) => {
            let segs = segments(&path.path);
            let table = match segs.as_slice() {
                [.., table, last] if last == "table" => table.clone(),
                [.., table, dsl, _] if dsl == "dsl" => table.clone(),
                _ => return None,
            };
            Some(read(Api::Diesel, table, filter_keys(&calls)))
        }
        // SeaORM: `user::Entity::find()`, `Entity::find_by_id(id)`.
        Expr::Call(call) => {
            let Expr::Path(function) = &*call.func else {
                return None;
            };
            let segs = segments(&function.path);
            let (entity_at, by_id) = match segs.last().map(String::as_str) {
                Some("find") => (segs.len().checked_sub(2)?, false),
                Some("find_by_id") => (segs.len().checked_sub(2)?, true),
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
                && methods.iter().any(|m| m == "one")
            {
                // The prelude's alias: `User::find()..one(db)` is `user::Entity`.
                snake(entity)
            } else {
                return None;
            };
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

/// Diesel's `insert_into(t::table).values(..).execute(..)`, read from the outermost call of
/// its chain: `.on_conflict(..)` in the chain makes it guarded.
fn diesel_insert_chain(node: &ExprMethodCall) -> Option<Op> {
    let (methods, root, _) = chain(node);
    let Expr::Call(call) = root else {
        return None;
    };
    let mut op = diesel_insert(call)?;
    op.guarded = methods
        .iter()
        .any(|m| m == "on_conflict" || m == "on_conflict_do_nothing");
    Some(op)
}

/// Diesel's `insert_into(t::table)` on its own.
fn diesel_insert(node: &syn::ExprCall) -> Option<Op> {
    let Expr::Path(function) = &*node.func else {
        return None;
    };
    if segments(&function.path).last().map(String::as_str) != Some("insert_into") {
        return None;
    }
    let Some(Expr::Path(target)) = node.args.first() else {
        return None;
    };
    let segs = segments(&target.path);
    let table = match segs.as_slice() {
        [.., table, last] if last == "table" => table.clone(),
        [.., dsl, table] if dsl == "dsl" => table.clone(),
        [table] => table.clone(),
        _ => return None,
    };
    Some(Op {
        kind: Kind::Insert,
        api: Api::Diesel,
        table,
        keys: Vec::new(),
        columns: Vec::new(),
        guarded: false,
        in_branch: false,
        path: Vec::new(),
        order: 0,
        line: function.path.segments.last()?.ident.span().start().line,
    })
}

/// `SeaORM`'s `t::Entity::insert(model)..exec(db)` and `t::ActiveModel { .. }.insert(db)`.
fn seaorm_insert(node: &ExprMethodCall) -> Option<Op> {
    let (methods, root, _) = chain(node);
    let guarded = methods.iter().any(|m| m == "on_conflict");
    let table = match root {
        Expr::Call(call) => {
            let Expr::Path(function) = &*call.func else {
                return None;
            };
            let segs = segments(&function.path);
            match segs.as_slice() {
                [.., table, entity, insert]
                    if entity == "Entity" && (insert == "insert" || insert == "insert_many") =>
                {
                    table.clone()
                }
                // `Entity::insert(..)` with the module imported.
                [entity, insert] if entity == "Entity" && insert == "insert" => "entity".to_owned(),
                _ => return None,
            }
        }
        Expr::Struct(literal) if methods.last().map(String::as_str) == Some("insert") => {
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
        kind: Kind::Insert,
        api: Api::SeaOrm,
        table,
        keys: Vec::new(),
        columns: Vec::new(),
        guarded,
        in_branch: false,
        path: Vec::new(),
        order: 0,
        line: node.method.span().start().line,
    })
}
