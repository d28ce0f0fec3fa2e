//! The registry: organisations, houses, premises, accounts, people and meters.

pub mod access;
pub mod drafts;
pub mod enums;
pub mod import;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod service;
pub mod types;

pub use service::Registry;
