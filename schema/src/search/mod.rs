//! Search over the registry: accounts, people, premises, meters and houses.

pub mod index;
pub mod query;
pub mod service;
