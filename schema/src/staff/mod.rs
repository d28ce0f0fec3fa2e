//! Staff (issue 7): tasks for people and groups with deadlines, reminders
//! and escalation; time and payroll come with their own issue.

pub mod tasks;
pub mod types;
