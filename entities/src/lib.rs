//! sea-orm entities, one module per table, and the enums stored in them.
//!
//! No business rules live here: validation and transactions are in `schema`.
//! Exact numbers (areas, meter values) are stored as integer micro-units (scale 6)
//! because SQLite keeps DECIMAL columns as binary floats; shares are stored as a
//! reduced fraction (numerator, denominator).

pub mod account;
pub mod enums;
pub mod house;
pub mod meter;
pub mod occupancy;
pub mod organisation;
pub mod person;
pub mod person_term;
pub mod premises;

pub use enums::*;
