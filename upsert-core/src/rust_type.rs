//! A field's Rust type as the derive prints it (`Option<Vec<String>>`), read once by the
//! derive: whether it is a PostgreSQL array column ([`is_array_type`]) or a string
//! ([`is_text_type`]). The column-type classes are in `verify::TypeClass`.

/// Whether a field's Rust type, as written (`Vec<String>`), is a PostgreSQL array column:
/// `Vec<T>` or `Option<Vec<T>>`, by any path, except `Vec<u8>` (`bytea`). The derive reads
/// the type's tokens, so an alias of a `Vec` is not seen as one.
///
/// ```
/// use upsert_core::is_array_type;
/// assert!(is_array_type("Vec<String>"));
/// assert!(is_array_type("Option<std::vec::Vec<Option<i64>>>"));
/// assert!(!is_array_type("Vec<u8>"));
/// assert!(!is_array_type("Option<Vec<u8>>"));
/// assert!(!is_array_type("String"));
/// ```
#[must_use]
pub fn is_array_type(rust_type: &str) -> bool {
    let text: String = rust_type.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = generic_argument(&text, "Option").unwrap_or(&text);
    generic_argument(inner, "Vec").is_some_and(|element| element != "u8")
}

/// Whether a field's Rust type, as written, is a string sqlx sends as `text`: `String`,
/// `&str`, `Box<str>` or `Cow<str>` (by any path, any lifetime), or an `Option` of one. A
/// key of such a type sorts by its bytes in a batch ([`Column::sorts_by_bytes`](crate::Column::sorts_by_bytes)).
///
/// ```
/// use upsert_core::is_text_type;
/// assert!(is_text_type("String"));
/// assert!(is_text_type("& 'a str"));
/// assert!(is_text_type("Option<std::borrow::Cow<'a, str>>"));
/// assert!(!is_text_type("Email"));
/// assert!(!is_text_type("Vec<String>"));
/// ```
#[must_use]
pub fn is_text_type(rust_type: &str) -> bool {
    // Lifetimes dropped (`&'a str` is `&str`), then whitespace.
    let mut text = String::with_capacity(rust_type.len());
    let mut chars = rust_type.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            while chars
                .next_if(|c| c.is_alphanumeric() || *c == '_')
                .is_some()
            {}
        } else if !c.is_whitespace() {
            text.push(c);
        }
    }
    let inner = generic_argument(&text, "Option").unwrap_or(&text);
    if let Some(target) = inner.strip_prefix('&') {
        return target == "str";
    }
    if let Some(argument) = generic_argument(inner, "Box") {
        return argument == "str";
    }
    if let Some(arguments) = generic_argument(inner, "Cow") {
        return arguments.rsplit(',').next() == Some("str");
    }
    !inner.contains('<') && inner.rsplit("::").next() == Some("String")
}

/// `T` of `Name<T>` (by any path: `std::option::Option<T>`).
fn generic_argument<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let (head, rest) = text.split_once('<')?;
    let last = head.rsplit("::").next().unwrap_or(head);
    (last == name).then_some(())?;
    rest.strip_suffix('>')
}
