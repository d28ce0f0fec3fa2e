//! What a GraphQL document may be before it is parsed or run, the same over
//! HTTP (POST and GET) and the websocket.
//!
//! The parser is recursive: a list literal nested a few thousand deep overflows
//! its stack and aborts the process, before any session is looked at. So the
//! nesting of the text is counted first by a scanner that keeps no stack (it
//! skips strings, block strings and comments), and only a document within the
//! limit is parsed. Variables arrive as JSON, which serde_json refuses past 128
//! levels; they are held to a lower limit here, walked with an early stop.
//! Then the parsed document's aliases are counted (an alias repeats a field,
//! an expensive one or a login, many times in one request). Depth and
//! complexity of the selection are the schema's own limits, which every
//! transport shares.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Deepest nesting of `{`, `(` and `[` in a document: selections (at most
/// [`schema::graphql::MAX_DEPTH`] of them) and argument literals together.
pub const MAX_NESTING: usize = 48;
/// Deepest nesting of lists and objects in the variables.
pub const MAX_VARIABLE_NESTING: usize = 32;
/// Most aliased fields in one document.
pub const MAX_ALIASES: usize = 30;

/// Why a document is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The text nests deeper than [`MAX_NESTING`] (counted up to the limit and one more).
    DocumentTooDeep,
    /// The variables nest deeper than [`MAX_VARIABLE_NESTING`].
    VariablesTooDeep,
    /// The document has this many aliases.
    TooManyAliases(usize),
    /// A text input holds a control character (NUL, escape …): the field's
    /// path and the character.
    ControlCharacter { field: String, character: char },
}

impl Refusal {
    /// The `extensions.code` of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::DocumentTooDeep | Refusal::VariablesTooDeep => "TOO_DEEP",
            Refusal::TooManyAliases(_) => "TOO_MANY_ALIASES",
            Refusal::ControlCharacter { .. } => "VALIDATION",
        }
    }

    /// The field of the request at fault.
    pub fn field(&self) -> String {
        match self {
            Refusal::DocumentTooDeep | Refusal::TooManyAliases(_) => "query".into(),
            Refusal::VariablesTooDeep => "variables".into(),
            Refusal::ControlCharacter { field, .. } => field.clone(),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::DocumentTooDeep => format!(
                "the query nests brackets more than {MAX_NESTING} levels deep; at most {MAX_NESTING} are allowed"
            ),
            Refusal::VariablesTooDeep => format!(
                "the variables nest lists and objects more than {MAX_VARIABLE_NESTING} levels deep; at most {MAX_VARIABLE_NESTING} are allowed"
            ),
            Refusal::TooManyAliases(n) => {
                format!("the document has {n} aliases; at most {MAX_ALIASES} are allowed")
            }
            Refusal::ControlCharacter { field, character } => format!(
                "{field}: contains the control character U+{:04X}; text may hold line breaks and tabs but no other control characters",
                u32::from(*character)
            ),
        }
    }

    /// The refusal as a GraphQL error, for the websocket's `error` message.
    pub fn to_json(&self) -> serde_json::Value {
        let mut extensions = serde_json::json!({ "code": self.code(), "field": self.field() });
        if let Refusal::ControlCharacter { .. } = self {
            extensions["reason"] = "control_character".into();
        }
        serde_json::json!({ "message": self.message(), "extensions": extensions })
    }
}

/// Checks a request's text and variables; on success the document is parsed
/// (and kept in the request, so the executor does not parse it again).
pub fn check(request: &mut async_graphql::Request) -> Result<(), Refusal> {
    check_text(&request.query)?;
    if variables_too_deep(&request.variables) {
        return Err(Refusal::VariablesTooDeep);
    }
    for (name, value) in request.variables.iter() {
        control_character(value, name.as_str())?;
    }
    // Syntax errors are reported by the executor in the usual shape.
    if let Ok(doc) = request.parsed_query() {
        if let Some(n) = too_many_aliases(doc) {
            return Err(Refusal::TooManyAliases(n));
        }
        literal_control_characters(doc)?;
    }
    Ok(())
}

/// Whether a character is refused in text: C0 controls but line feed and tab,
/// DEL and the C1 controls. (A single-line field refuses line breaks itself.)
fn refused_character(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}'
}

/// Refuses a control character anywhere in a variable's strings (dates are
/// checked against their declared types by the schema, `schema::graphql`); `path` names the field as the API does (`input.fullName`,
/// `input.phones.0`).
fn control_character(value: &async_graphql::Value, path: &str) -> Result<(), Refusal> {
    use async_graphql::Value;
    match value {
        Value::String(s) => match s.chars().find(|c| refused_character(*c)) {
            Some(character) => Err(Refusal::ControlCharacter {
                field: path.to_string(),
                character,
            }),
            None => Ok(()),
        },
        Value::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| control_character(v, &format!("{path}.{i}"))),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| control_character(v, &format!("{path}.{k}"))),
        _ => Ok(()),
    }
}

/// The same for strings written into the document (arguments' literals).
fn literal_control_characters(doc: &ExecutableDocument) -> Result<(), Refusal> {
    fn value(v: &async_graphql::Value, path: &str) -> Result<(), Refusal> {
        control_character(v, path)
    }
    fn walk(set: &SelectionSet, depth: usize) -> Result<(), Refusal> {
        if depth > MAX_NESTING {
            return Ok(());
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    for (name, arg) in &f.node.arguments {
                        if let Ok(v) = arg
                            .node
                            .clone()
                            .into_const_with(|_| Ok::<_, ()>(async_graphql::Value::Null))
                        {
                            value(&v, name.node.as_str())?;
                        }
                    }
                    walk(&f.node.selection_set.node, depth + 1)?;
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, depth + 1)?,
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }
    for (_, op) in doc.operations.iter() {
        walk(&op.node.selection_set.node, 0)?;
    }
    for (_, fragment) in doc.fragments.iter() {
        walk(&fragment.node.selection_set.node, 0)?;
    }
    Ok(())
}

/// Checks the nesting of a document's text without parsing it.
pub fn check_text(text: &str) -> Result<(), Refusal> {
    if nesting(text) > MAX_NESTING {
        Err(Refusal::DocumentTooDeep)
    } else {
        Ok(())
    }
}

/// The deepest bracket nesting of a GraphQL text, counted up to
/// `MAX_NESTING + 1`. Brackets inside strings, block strings and comments do
/// not count; unbalanced closing brackets do not go below zero (the parser
/// reports them).
pub fn nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                loop {
                    if i >= bytes.len() {
                        break;
                    }
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 2;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > MAX_NESTING {
                        return deepest;
                    }
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Whether the variables nest deeper than [`MAX_VARIABLE_NESTING`]; the walk
/// stops at the limit, so its own recursion is bounded.
pub fn variables_too_deep(variables: &async_graphql::Variables) -> bool {
    fn deeper(value: &async_graphql::Value, left: usize) -> bool {
        use async_graphql::Value;
        match value {
            Value::List(items) => left == 0 || items.iter().any(|v| deeper(v, left - 1)),
            Value::Object(fields) => left == 0 || fields.values().any(|v| deeper(v, left - 1)),
            _ => false,
        }
    }
    variables
        .iter()
        .any(|(_, v)| deeper(v, MAX_VARIABLE_NESTING))
}

/// Counts aliased fields (through fragments too); `Some(n)` when over the limit.
pub fn too_many_aliases(doc: &ExecutableDocument) -> Option<usize> {
    fn count(set: &SelectionSet, doc: &ExecutableDocument, depth: usize, n: &mut usize) {
        if depth > 32 || *n > MAX_ALIASES {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    if f.node.alias.is_some() {
                        *n += 1;
                    }
                    count(&f.node.selection_set.node, doc, depth + 1, n);
                }
                Selection::InlineFragment(f) => {
                    count(&f.node.selection_set.node, doc, depth + 1, n)
                }
                Selection::FragmentSpread(s) => {
                    if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                        count(&frag.node.selection_set.node, doc, depth + 1, n);
                    }
                }
            }
        }
    }
    let mut n = 0;
    for (_, op) in doc.operations.iter() {
        count(&op.node.selection_set.node, doc, 0, &mut n);
    }
    (n > MAX_ALIASES).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert_eq!(nesting("{ a(x: \"[[[[\") { b } }"), 2);
        assert_eq!(nesting("# {{{{{{\n{ a }"), 1);
        assert_eq!(nesting("{ a(x: \"\"\" [[[ \\\"\"\" ((( \"\"\") }"), 2);
        assert_eq!(nesting("{ a(x: \"\\\"[[\") }"), 2);
    }

    #[test]
    fn a_deep_list_literal_is_counted_without_recursion() {
        let deep = format!(
            "{{ a(x: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(nesting(&deep), MAX_NESTING + 1);
        assert_eq!(check_text(&deep), Err(Refusal::DocumentTooDeep));
        let fine = format!("{{ a(x: {}1{}) }}", "[".repeat(10), "]".repeat(10));
        assert_eq!(nesting(&fine), 12);
        assert!(check_text(&fine).is_ok());
    }

    #[test]
    fn control_characters_are_refused_with_their_field_but_line_breaks_and_tabs_pass() {
        let mut request = async_graphql::Request::new("mutation($input: X) { a(input: $input) }")
            .variables(async_graphql::Variables::from_json(serde_json::json!({
                "input": { "comment": "two\nlines\tand a tab", "phones": ["+7 900", "bad\u{0}"] }
            })));
        assert_eq!(
            check(&mut request),
            Err(Refusal::ControlCharacter {
                field: "input.phones.1".into(),
                character: '\0'
            })
        );
        let mut request = async_graphql::Request::new("{ a(name: \"esc\\u001b\") }");
        assert_eq!(
            check(&mut request),
            Err(Refusal::ControlCharacter {
                field: "name".into(),
                character: '\u{1b}'
            })
        );
        let mut fine = async_graphql::Request::new("{ a(name: \"ok\\nok\") }");
        assert!(check(&mut fine).is_ok());
    }

    #[test]
    fn closing_brackets_alone_never_go_below_zero() {
        assert_eq!(nesting("]]]] { a }"), 1);
    }

    #[test]
    fn deep_variables_are_refused_at_the_limit() {
        fn nested(levels: usize) -> async_graphql::Variables {
            let mut v = serde_json::json!(1);
            for _ in 0..levels {
                v = serde_json::json!([v]);
            }
            async_graphql::Variables::from_json(serde_json::json!({ "x": v }))
        }
        assert!(!variables_too_deep(&nested(MAX_VARIABLE_NESTING)));
        assert!(variables_too_deep(&nested(MAX_VARIABLE_NESTING + 1)));
    }
}
