//! Billing: services, tariffs, periods, charges and receipts.
//!
//! The arithmetic of charges (`calc`) and of one account's receipt
//! (`compute`), the payment QR payloads of receipts (`qr`), the catalogue of
//! services, tariffs and norms (`catalogue`), the organisation's settings and
//! privileged categories (`settings`), the billing run (`run`) and what
//! follows it (`periods`: closing, recalculations, receipts), with their
//! GraphQL in `types`, `query` and `mutation`.

pub mod calc;
pub mod catalogue;
pub mod compute;
pub mod documents;
mod inputs;
pub mod metering;
pub mod mutation;
pub mod pdf;
pub mod periods;
pub mod qr;
pub mod query;
pub mod receipts;
pub mod run;
pub mod settings;
pub mod types;

pub use catalogue::Catalogue;
pub use run::Billing;
