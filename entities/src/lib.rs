//! sea-orm entities, one module per table, and the enums stored in them.
//!
//! No business rules live here: validation and transactions are in `schema`.
//! Exact numbers (areas, meter values) are stored as integer micro-units (scale 6)
//! because SQLite keeps DECIMAL columns as binary floats; shares are stored as a
//! reduced fraction (numerator, denominator).

pub mod access_code;
pub mod account;
pub mod attachment;
pub mod audit_entry;
pub mod audit_head;
pub mod benefit_category;
pub mod billing_period;
pub mod billing_setting;
pub mod ceremony;
pub mod charge;
pub mod complaint;
pub mod complaint_history;
pub mod enums;
pub mod event;
pub mod house;
pub mod idempotency_key;
pub mod ledger_entry;
pub mod membership;
pub mod meter;
pub mod norm;
pub mod occupancy;
pub mod one_time_code;
pub mod organisation;
pub mod paid_service;
pub mod passkey;
pub mod payer_match;
pub mod payment;
pub mod payment_return;
pub mod person;
pub mod person_term;
pub mod premises;
pub mod reading;
pub mod reading_settings;
pub mod recalculation;
pub mod receipt;
pub mod resident_link;
pub mod service;
pub mod service_order;
pub mod session;
pub mod staff_task;
pub mod statement_import;
pub mod statement_line;
pub mod tariff;
pub mod user;

pub use enums::*;
