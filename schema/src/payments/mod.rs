//! Payments and debt: the pure cores — where a payment goes (`allocation`)
//! and late-payment penalties (`penalty`); bank statements are read by the
//! `statements` crate — and the ledger with payments recorded exactly once
//! (`service`), over GraphQL (`types`).

pub mod allocation;
pub mod debtors;
pub mod debtors_types;
pub mod matching;
pub mod penalty;
pub mod queue;
pub mod service;
pub mod statement;
pub mod statement_types;
pub mod types;

pub use service::Payments;
