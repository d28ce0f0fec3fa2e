//! The registry: organisations, houses, premises, accounts, people and meters.

pub mod drafts;
pub mod import;
pub mod service;

pub use service::Registry;
