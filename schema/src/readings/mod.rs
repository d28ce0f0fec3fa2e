//! Meter readings: submission by residents and staff, corrections, import,
//! review of unusual consumption, consumption per period, and their live events.
//!
//! Invariants: a meter's accepted readings never go down in date; a value below
//! the one before is a rollover at the register's capacity or a staff entry with
//! a reason; residents submit only inside the window, only for active meters
//! whose verification is not overdue; every reading records its source and
//! author; a correction supersedes, it never edits; each write emits its event
//! in its own transaction.

pub mod import;
pub mod mutation;
pub mod query;
pub mod rules;
mod service;
pub mod subscription;
pub mod types;

pub use service::today_in;
pub use service::{
    History, PeriodConsumption, ReadingFilter, ReadingView, Readings, Settings, SettingsPatch,
    Submission,
};
