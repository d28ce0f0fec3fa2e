//! Payments and debt. The pure cores so far: where a payment goes
//! (`allocation`) and late-payment penalties (`penalty`); bank statements
//! are read by the `statements` crate. The ledger, recording payments and
//! statement import build on them (issue 6).

pub mod allocation;
pub mod penalty;
