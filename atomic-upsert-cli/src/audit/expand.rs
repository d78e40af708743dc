//! The audited crate's own `macro_rules!`, expanded where the crate calls them, so that the
//! finders and inserters a macro generates (`insert!(likes, NewLike)` in an `impl` block,
//! `impl_add_relation!(add_crate_user_impl, crate_user, ..)`) are functions the audit knows.
//!
//! A small matcher, not rustc's: a rule's pattern is literal tokens, `$name:fragment`s and
//! `$( .. ) sep op` repetitions. A fragment that is one token tree (`ident`, `tt`,
//! `literal`, `lifetime`, `block`) takes one; the others (`ty`, `expr`, `path`, ..) take
//! the tokens up to the pattern's next literal token or a `,`/`;` (a `<..>` nesting
//! counted). A
//! repetition is expanded once, with its first element: enough to see which table a
//! generated function reads or writes; a repetition of one variable (`$( $body:tt )+`)
//! takes the whole run, so the body writes it out whole. A call no rule matches is left
//! alone.

use std::collections::HashMap;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// The crate's macros, by name: each rule's pattern and body.
#[derive(Debug, Default)]
pub struct Macros {
    rules: HashMap<String, Vec<(Vec<Pat>, TokenStream)>>,
}

/// One element of a rule's pattern.
#[derive(Debug, Clone)]
enum Pat {
    /// A literal token, by its text.
    Token(String),
    /// `$name:fragment`.
    Var(String, String),
    /// `$( .. ) sep op`: the inner pattern and the separator.
    Repeat(Vec<Pat>, Option<String>),
    /// A delimited group of patterns.
    Group(Delimiter, Vec<Pat>),
}

impl Macros {
    /// Records a `macro_rules! name { .. }` definition.
    pub fn define(&mut self, name: &str, tokens: TokenStream) {
        let rules: Vec<(Vec<Pat>, TokenStream)> = rules(tokens)
            .into_iter()
            .map(|(pattern, body)| (patterns(pattern), body))
            .collect();
        if !rules.is_empty() {
            self.rules.entry(name.to_owned()).or_default().extend(rules);
        }
    }

    /// Whether the crate defines a macro of this name.
    pub fn knows(&self, mac: &syn::Macro) -> bool {
        mac.path
            .get_ident()
            .is_some_and(|name| self.rules.contains_key(&name.to_string()))
    }

    /// The expansion of a call of one of the crate's macros by its first matching rule.
    pub fn expand(&self, mac: &syn::Macro) -> Option<TokenStream> {
        let name = mac.path.get_ident()?.to_string();
        let input: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        self.rules.get(&name)?.iter().find_map(|(pattern, body)| {
            let mut bound = HashMap::new();
            matches(pattern, &input, &mut bound).then(|| substitute(body.clone(), &bound))
        })
    }
}

/// The rules of a `macro_rules!` definition's tokens: each `(pattern) => {body}`'s pattern
/// and body.
pub fn rules(tokens: TokenStream) -> Vec<(TokenStream, TokenStream)> {
    let mut rules = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let TokenTree::Group(pattern) = token else {
            continue;
        };
        // `=>` then the body group.
        let arrow = matches!(tokens.next(), Some(TokenTree::Punct(p)) if p.as_char() == '=')
            && matches!(tokens.next(), Some(TokenTree::Punct(p)) if p.as_char() == '>');
        if let (true, Some(TokenTree::Group(body))) = (arrow, tokens.next()) {
            rules.push((pattern.stream(), body.stream()));
        }
    }
    rules
}

/// A macro body as Rust: every `$name` as the identifier `name`, each `$(..)` repetition as
/// its contents once (a substitution that binds nothing), for auditing the body as written.
pub fn plain(body: TokenStream) -> TokenStream {
    substitute(body, &HashMap::new())
}

/// A rule's pattern tokens as [`Pat`]s.
fn patterns(tokens: TokenStream) -> Vec<Pat> {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '$' => match tokens.next() {
                Some(TokenTree::Ident(name)) => {
                    let colon =
                        matches!(tokens.peek(), Some(TokenTree::Punct(c)) if c.as_char() == ':');
                    if colon {
                        tokens.next();
                        let fragment = match tokens.next() {
                            Some(TokenTree::Ident(fragment)) => fragment.to_string(),
                            _ => "tt".to_owned(),
                        };
                        out.push(Pat::Var(name.to_string(), fragment));
                    } else {
                        out.push(Pat::Token(format!("${name}")));
                    }
                }
                Some(TokenTree::Group(group)) => {
                    let inner = patterns(group.stream());
                    let mut separator = None;
                    // The separator (any token but an operator), then the operator.
                    while let Some(TokenTree::Punct(op)) = tokens.peek() {
                        let c = op.as_char();
                        tokens.next();
                        if matches!(c, '*' | '+' | '?') {
                            break;
                        }
                        separator = Some(c.to_string());
                    }
                    out.push(Pat::Repeat(inner, separator));
                }
                _ => {}
            },
            TokenTree::Group(group) => {
                out.push(Pat::Group(group.delimiter(), patterns(group.stream())));
            }
            other => out.push(Pat::Token(other.to_string())),
        }
    }
    out
}

/// Whether `pattern` matches all of `input`, binding its variables.
fn matches(
    pattern: &[Pat],
    input: &[TokenTree],
    bound: &mut HashMap<String, Vec<TokenTree>>,
) -> bool {
    let mut at = 0;
    for (k, pat) in pattern.iter().enumerate() {
        let next_literal = match pattern.get(k + 1) {
            Some(Pat::Token(text)) => Some(text.as_str()),
            _ => None,
        };
        match pat {
            Pat::Token(text) => {
                if input.get(at).is_some_and(|t| t.to_string() == *text) {
                    at += 1;
                } else {
                    return false;
                }
            }
            Pat::Group(delimiter, inner) => match input.get(at) {
                Some(TokenTree::Group(group)) if group.delimiter() == *delimiter => {
                    let tokens: Vec<TokenTree> = group.stream().into_iter().collect();
                    if !matches(inner, &tokens, bound) {
                        return false;
                    }
                    at += 1;
                }
                _ => return false,
            },
            Pat::Var(name, fragment) => {
                let one = matches!(
                    fragment.as_str(),
                    "ident" | "tt" | "literal" | "lifetime" | "block"
                );
                let end = if one {
                    (at < input.len()).then_some(at + 1)
                } else {
                    // A type, expression or path never holds a `,` or `;` outside brackets.
                    let end = until(input, at, next_literal, None);
                    Some(until(input, at, Some(","), Some(end)).min(until(
                        input,
                        at,
                        Some(";"),
                        Some(end),
                    )))
                };
                match end {
                    Some(end) if end > at || fragment == "vis" => {
                        bound.insert(name.clone(), input[at..end].to_vec());
                        at = end;
                    }
                    _ => return false,
                }
            }
            Pat::Repeat(inner, separator) => {
                let end = until(input, at, next_literal, None);
                let first_end = until(input, at, separator.as_deref(), Some(end));
                if let [Pat::Var(name, _)] = inner.as_slice() {
                    // `$( $after:tt )+`, `$($field:ident),*`: one variable takes the whole
                    // run, separators and all, which the body's one-time repetition then
                    // writes out as the run itself.
                    if end > at {
                        bound.insert(name.clone(), input[at..end].to_vec());
                    }
                } else if first_end > at {
                    // Bind the first element; a mismatch inside a repetition is not fatal.
                    let _ = matches(inner, &input[at..first_end], bound);
                }
                at = end;
            }
        }
    }
    at == input.len()
}

/// The index of the first token from `at` that is `stop` at the top level (outside `<..>`),
/// or `limit` (or the end).
fn until(input: &[TokenTree], at: usize, stop: Option<&str>, limit: Option<usize>) -> usize {
    let limit = limit.unwrap_or(input.len());
    let mut angle = 0_i32;
    for (i, token) in input.iter().enumerate().take(limit).skip(at) {
        if let TokenTree::Punct(p) = token {
            match p.as_char() {
                '<' => angle += 1,
                '>' if angle > 0 => angle -= 1,
                _ => {}
            }
        }
        if angle == 0 && stop.is_some_and(|stop| token.to_string() == stop) {
            return i;
        }
    }
    limit
}

/// `body` with each bound `$name` replaced by its tokens, `$crate` by `crate`, and each
/// `$( .. )` repetition by one copy of its contents.
fn substitute(body: TokenStream, bound: &HashMap<String, Vec<TokenTree>>) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut tokens = body.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '$' => match tokens.peek().cloned() {
                Some(TokenTree::Ident(name)) => {
                    tokens.next();
                    let text = name.to_string();
                    if let Some(value) = bound.get(&text) {
                        out.extend(value.iter().cloned());
                    } else if text == "crate" {
                        out.push(TokenTree::Ident(Ident::new("crate", Span::call_site())));
                    } else {
                        out.push(TokenTree::Ident(name));
                    }
                }
                Some(TokenTree::Group(group)) => {
                    tokens.next();
                    out.extend(substitute(group.stream(), bound));
                    while let Some(TokenTree::Punct(op)) = tokens.peek() {
                        if matches!(op.as_char(), '*' | '+' | '?' | ',' | ';') {
                            tokens.next();
                        } else {
                            break;
                        }
                    }
                }
                _ => out.push(TokenTree::Punct(p)),
            },
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), substitute(group.stream(), bound));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(text: &str) -> syn::Macro {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn a_generated_inserter_expands_with_its_table() {
        let mut macros = Macros::default();
        macros.define(
            "impl_add_relation",
            "($method:ident, $entity:ident, $insert:ident, $fk:ident) => {
                async fn $method(&self, fk: i64) -> DbResult<()> {
                    let model = $entity::ActiveModel { $fk: Set(fk), ..Default::default() };
                    $insert::insert(model).exec(&self.db).await?;
                    Ok(())
                }
            };"
            .parse()
            .unwrap(),
        );
        let call = mac("impl_add_relation!(add_crate_user_impl, crate_user, CrateUser, crate_fk)");
        let expanded = macros.expand(&call).unwrap().to_string();
        assert!(expanded.contains("fn add_crate_user_impl"), "{expanded}");
        assert!(expanded.contains("crate_user :: ActiveModel"), "{expanded}");
        assert!(expanded.contains("CrateUser :: insert"), "{expanded}");
    }

    #[test]
    fn a_repeated_token_tree_is_written_out_whole() {
        let mut macros = Macros::default();
        macros.define(
            "insert",
            "($table:ident, |$val:ident| $( $after:tt )+) => {
                fn insert(new: i32) -> i32 { let $val = new; $( $after )+ }
            };"
            .parse()
            .unwrap(),
        );
        let call = mac("insert!(follows, |x| if x > 0 { x } else { 0 })");
        let expanded = macros.expand(&call).unwrap();
        let item: syn::ItemFn = syn::parse2(expanded.clone()).unwrap();
        let text = expanded.to_string();
        assert!(
            text.contains("if x > 0 { x } else { 0 }"),
            "{text}: {}",
            item.sig.ident
        );
    }

    #[test]
    fn types_with_commas_and_repetitions_are_matched() {
        let mut macros = Macros::default();
        macros.define(
            "find_by",
            "($table:ident, $fn:ident, $($col:ident as $type:ty),+) => {
                pub fn $fn(conn: &Connection, $($col: $type),+) -> Result<Self> {
                    $table::table $(.filter($table::$col.eq($col)))+ .first(conn)
                }
            };"
            .parse()
            .unwrap(),
        );
        let call =
            mac("find_by!(users, find_by_email, email as &str, instance as HashMap<i32, String>)");
        let expanded = macros.expand(&call).unwrap().to_string().replace(' ', "");
        assert!(expanded.contains("fnfind_by_email"), "{expanded}");
        assert!(
            expanded.contains("users::table.filter(users::email.eq(email))"),
            "{expanded}"
        );
        assert!(macros.expand(&mac("find_by!(users)")).is_none());
    }

    #[test]
    fn a_rule_that_calls_its_sibling_picks_the_right_one() {
        let mut macros = Macros::default();
        macros.define(
            "insert",
            "($table:ident, $from:ty) => { insert!($table, $from, |x, _conn| Ok(x)); };
             ($table:ident, $from:ty, |$val:ident, $conn:ident | $( $after:tt )+) => {
                pub fn insert(conn: &Connection, new: $from) -> Result<Self> {
                    diesel::insert_into($table::table).values(new).execute(conn)?;
                    Ok(())
                }
             };"
            .parse()
            .unwrap(),
        );
        let first = macros
            .expand(&mac("insert!(likes, NewLike)"))
            .unwrap()
            .to_string();
        assert!(first.starts_with("insert !"), "{first}");
        let second = macros
            .expand(&mac("insert!(likes, NewLike, |x, _conn| Ok(x))"))
            .unwrap()
            .to_string()
            .replace(' ', "");
        assert!(
            second.contains("diesel::insert_into(likes::table)"),
            "{second}"
        );
    }
}
