//! The application core: one module per bounded context plus the cross-cutting ones.
//!
//! Each context keeps its rules in `service` (no GraphQL there) and its thin
//! GraphQL layer beside it; `graphql::build_schema` merges the roots.

pub mod audit;
pub mod auth;
pub mod billing;
pub mod bulk;
pub mod clock;
pub mod complaints;
pub mod error;
pub mod events;
pub mod exact;
pub mod export;
pub mod files;
pub mod fold;
pub mod graphql;
pub mod mirror;
pub mod pagination;
pub mod payments;
pub mod readings;
pub mod registry;
pub mod search;
pub mod services_catalog;
pub mod staff;
pub mod tenancy;
pub mod tx;

pub use graphql::{build_schema, AppSchema, Deps};
