//! Relay connections over offset pages.
//!
//! A cursor is the opaque position of an edge in the ordered list; `first` is capped
//! so that no query can ask for an unbounded page.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{SimpleObject, ID};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::registry::service::Page;

pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 500;

#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many items match the filter, on all pages.
    pub total_count: u64,
}

pub type Conn<T> = Connection<String, T, ConnectionFields>;

fn encode(offset: u64) -> String {
    format!("c{offset:x}")
}

fn decode(cursor: &str) -> Option<u64> {
    u64::from_str_radix(cursor.strip_prefix('c')?, 16).ok()
}

/// The page a `first`/`after` pair asks for.
pub fn page(first: Option<i32>, after: Option<String>) -> AppResult<Page> {
    let limit = match first {
        None => DEFAULT_PAGE,
        Some(n) if n < 0 => {
            return Err(AppError::validation(
                "first",
                "out_of_range",
                "must not be negative",
            ))
        }
        Some(n) if n as u64 > MAX_PAGE => {
            return Err(AppError::validation(
                "first",
                "page_too_large",
                format!("at most {MAX_PAGE} items per page"),
            ))
        }
        Some(n) => n as u64,
    };
    let offset = match after {
        None => 0,
        Some(c) => {
            decode(&c).ok_or_else(|| {
                AppError::validation("after", "invalid_cursor", "not a cursor of this list")
            })? + 1
        }
    };
    Ok(Page { offset, limit })
}

/// Builds a connection from one page of rows.
pub fn connection<M, T>(rows: Vec<M>, total: u64, page: Page, wrap: impl Fn(M) -> T) -> Conn<T>
where
    T: async_graphql::OutputType,
{
    let has_next = page.offset + (rows.len() as u64) < total;
    let mut conn = Connection::with_additional_fields(
        page.offset > 0,
        has_next,
        ConnectionFields { total_count: total },
    );
    conn.edges.extend(
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| Edge::new(encode(page.offset + i as u64), wrap(row))),
    );
    conn
}

/// Parses a GraphQL ID into a UUID, naming the field when it is not one.
pub fn uuid(field: &str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::validation(field, "invalid_id", "not an ID"))
}

pub fn opt_uuid(field: &str, id: Option<&ID>) -> AppResult<Option<Uuid>> {
    id.map(|i| uuid(field, i)).transpose()
}
