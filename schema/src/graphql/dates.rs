//! Dates in a request are checked against the argument types of the schema
//! before anything runs: a value of type `NaiveDate` or `DateTime` that does not
//! read as one, or falls outside the years a housing company can mean, is
//! refused as VALIDATION naming the field (`input.validFrom`), in a literal or a
//! variable, as a request error (no data; 400 under
//! `application/graphql-response+json`).
//!
//! The built-in scalars accept any text during validation and fail only while
//! the resolver's arguments are read, which answers 200 with a path, a message
//! naming the input type but not the field, and no code. The check keys on the
//! declared type, so a text that merely looks like a date (an account number
//! `1234-12-01`) is never taken for one.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{ServerError, ServerResult, Value, Variables};
use chrono::Datelike;

/// The years a date of ours may fall in: a typo like 0202 or 20266 is refused
/// before it reaches a calculation or a database that reads it otherwise.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2199;

/// How deep the walk follows selections and input objects (the text's own
/// nesting is bounded before parsing; this only guards fragment cycles, which
/// validation reports later).
const MAX_WALK: usize = 64;

/// The schema extension that runs the check.
pub struct DateCheck;

impl ExtensionFactory for DateCheck {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DateCheckExtension)
    }
}

struct DateCheckExtension;

#[async_trait::async_trait]
impl Extension for DateCheckExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        check(&ctx.schema_env.registry, &doc, variables)?;
        Ok(doc)
    }
}

/// Why a date is refused.
#[derive(Debug, PartialEq, Eq)]
enum Fault {
    NotADate,
    OutOfRange,
}

/// Checks every argument of every operation of the document.
fn check(registry: &Registry, doc: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
    let mut walk = Walk {
        registry,
        doc,
        variables,
        fragments: HashSet::new(),
    };
    for (_, op) in doc.operations.iter() {
        let root = match op.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        if let Some(root) = root {
            walk.selections(root, &op.node.selection_set.node, 0)?;
        }
    }
    Ok(())
}

struct Walk<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Fragments already walked (each is checked once, and a cycle ends).
    fragments: HashSet<String>,
}

impl Walk<'_> {
    fn selections(&mut self, parent: &str, set: &SelectionSet, depth: usize) -> ServerResult<()> {
        if depth > MAX_WALK {
            return Ok(());
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let Some(meta) = self
                        .registry
                        .types
                        .get(parent)
                        .and_then(|t| t.field_by_name(&f.node.name.node))
                    else {
                        // Unknown fields are validation's to report.
                        continue;
                    };
                    for (name, value) in &f.node.arguments {
                        let Some(arg) = meta.args.get(name.node.as_str()) else {
                            continue;
                        };
                        let variables = self.variables;
                        let value = value.node.clone().into_const_with(|v| {
                            Ok::<_, ()>(variables.get(&v).cloned().unwrap_or(Value::Null))
                        });
                        if let Ok(value) = value {
                            self.value(&arg.ty, &value, name.node.as_str(), 0)
                                .map_err(|e| e.at(value_pos(f, name.node.as_str())))?;
                        }
                    }
                    let child = MetaTypeName::concrete_typename(&meta.ty).to_string();
                    self.selections(&child, &f.node.selection_set.node, depth + 1)?;
                }
                Selection::InlineFragment(f) => {
                    let on = f
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| parent.to_string());
                    self.selections(&on, &f.node.selection_set.node, depth + 1)?;
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.to_string();
                    if !self.fragments.insert(name.clone()) {
                        continue;
                    }
                    if let Some(fragment) = self.doc.fragments.get(name.as_str()) {
                        let on = fragment.node.type_condition.node.on.node.to_string();
                        self.selections(&on, &fragment.node.selection_set.node, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks a value against a type as the SDL writes it (`[NaiveDate!]!`).
    fn value(&self, ty: &str, value: &Value, path: &str, depth: usize) -> Result<(), Refused> {
        if depth > MAX_WALK {
            return Ok(());
        }
        let ty = ty.strip_suffix('!').unwrap_or(ty);
        if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return match value {
                Value::List(items) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, v)| self.value(inner, v, &format!("{path}.{i}"), depth + 1)),
                // A single value stands for a list of one.
                other => self.value(inner, other, path, depth + 1),
            };
        }
        match (self.registry.types.get(ty), value) {
            (Some(MetaType::Scalar { name, .. }), Value::String(text)) => {
                let fault = match name.as_str() {
                    "NaiveDate" => date_fault(text),
                    "DateTime" => date_time_fault(text),
                    _ => None,
                };
                match fault {
                    Some(fault) => Err(Refused {
                        field: path.to_string(),
                        value: text.chars().take(40).collect(),
                        fault,
                        pos: None,
                    }),
                    None => Ok(()),
                }
            }
            (Some(MetaType::InputObject { input_fields, .. }), Value::Object(fields)) => fields
                .iter()
                .try_for_each(|(k, v)| match input_fields.get(k.as_str()) {
                    Some(f) => self.value(&f.ty, v, &format!("{path}.{k}"), depth + 1),
                    None => Ok(()),
                }),
            _ => Ok(()),
        }
    }
}

/// Where the argument's value starts in the document, for the error.
fn value_pos(
    f: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    name: &str,
) -> async_graphql::Pos {
    f.node
        .arguments
        .iter()
        .find(|(n, _)| n.node.as_str() == name)
        .map(|(_, v)| v.pos)
        .unwrap_or(f.pos)
}

struct Refused {
    field: String,
    value: String,
    fault: Fault,
    pos: Option<async_graphql::Pos>,
}

impl Refused {
    fn at(mut self, pos: async_graphql::Pos) -> ServerError {
        self.pos = Some(pos);
        self.into()
    }
}

impl From<Refused> for ServerError {
    fn from(r: Refused) -> ServerError {
        let (message, reason) = match r.fault {
            Fault::NotADate => (
                format!(
                    "{}: \"{}\" is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss with an offset for a moment)",
                    r.field, r.value
                ),
                "not_a_date",
            ),
            Fault::OutOfRange => (
                format!(
                    "{}: {} is outside the years {FIRST_YEAR}–{LAST_YEAR}",
                    r.field, r.value
                ),
                "date_out_of_range",
            ),
        };
        let mut e = ServerError::new(message, r.pos);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", "VALIDATION");
        ext.set("field", r.field);
        ext.set("reason", reason);
        e.extensions = Some(ext);
        e
    }
}

fn year_fault(year: i32) -> Option<Fault> {
    (!(FIRST_YEAR..=LAST_YEAR).contains(&year)).then_some(Fault::OutOfRange)
}

/// What is wrong with a `NaiveDate` text, read as the scalar reads it.
fn date_fault(text: &str) -> Option<Fault> {
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => year_fault(d.year()),
        Err(_) => Some(Fault::NotADate),
    }
}

/// What is wrong with a `DateTime` (RFC 3339) text.
fn date_time_fault(text: &str) -> Option<Fault> {
    match text.parse::<chrono::DateTime<chrono::Utc>>() {
        Ok(d) => year_fault(d.year()),
        Err(_) => Some(Fault::NotADate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_the_scalars_read_them() {
        assert_eq!(date_fault("2026-11-20"), None);
        assert_eq!(date_fault("2026-13-45"), Some(Fault::NotADate));
        assert_eq!(date_fault("20.11.2026"), Some(Fault::NotADate));
        assert_eq!(date_fault("0202-11-01"), Some(Fault::OutOfRange));
        assert_eq!(date_fault("2300-01-01"), Some(Fault::OutOfRange));
        assert_eq!(date_fault("20260-11-01"), Some(Fault::NotADate));
        assert_eq!(date_time_fault("2026-11-20T10:00:00+03:00"), None);
        assert_eq!(
            date_time_fault("2026-11-20T10:00:00"),
            Some(Fault::NotADate)
        );
        assert_eq!(
            date_time_fault("1800-11-20T10:00:00Z"),
            Some(Fault::OutOfRange)
        );
    }
}
