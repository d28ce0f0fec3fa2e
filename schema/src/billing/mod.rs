//! Billing: services, tariffs, periods, charges and receipts.
//!
//! So far: the arithmetic of charges (`calc`), the payment QR payloads of
//! receipts (`qr`) and the catalogue of services and tariffs (`catalogue`,
//! with its GraphQL in `types`, `query` and `mutation`).

pub mod calc;
pub mod catalogue;
pub mod mutation;
pub mod qr;
pub mod query;
pub mod types;

pub use catalogue::Catalogue;
