//! The application core: one module per bounded context plus the cross-cutting ones.

pub mod bulk;
pub mod clock;
pub mod error;
pub mod exact;
pub mod fold;
pub mod registry;
pub mod search;
