//! Deadlines (SLA): hours to react and to resolve by category and priority,
//! as the organisation sets them; what is overdue, and whom an overdue
//! complaint is escalated to. Pure.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Low,
    Normal,
    High,
    Emergency,
}

impl Priority {
    pub fn code(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Emergency => "emergency",
        }
    }
}

/// An organisation's deadline for a category (none: every category) and priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub category: Option<String>,
    pub priority: Priority,
    /// From filing to the assignee starting the work.
    pub react_hours: i64,
    /// From filing to done.
    pub resolve_hours: i64,
}

/// The deadlines that apply: the category's own, else the organisation's
/// for the priority, else the built-in ones (emergency 1 h / 24 h, high 4 h /
/// 3 days, normal 24 h / 7 days, low 72 h / 14 days).
pub fn deadlines(
    slas: &[Sla],
    category: Option<&str>,
    priority: Priority,
    filed: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let own = slas
        .iter()
        .find(|s| {
            s.priority == priority && s.category.is_some() && s.category.as_deref() == category
        })
        .or_else(|| {
            slas.iter()
                .find(|s| s.priority == priority && s.category.is_none())
        });
    let (react, resolve) = match own {
        Some(s) => (s.react_hours, s.resolve_hours),
        None => match priority {
            Priority::Emergency => (1, 24),
            Priority::High => (4, 72),
            Priority::Normal => (24, 168),
            Priority::Low => (72, 336),
        },
    };
    (
        filed + Duration::hours(react),
        filed + Duration::hours(resolve),
    )
}

/// How late an open complaint is at `now`, if it is.
pub fn overdue(due: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
    (now > due).then(|| now - due)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_category_s_own_deadline_then_the_priority_s_then_the_built_in() {
        let slas = vec![
            Sla {
                category: Some("elevator".into()),
                priority: Priority::Normal,
                react_hours: 2,
                resolve_hours: 24,
            },
            Sla {
                category: None,
                priority: Priority::Normal,
                react_hours: 8,
                resolve_hours: 120,
            },
        ];
        let filed = t("2026-11-28T09:00:00Z");
        assert_eq!(
            deadlines(&slas, Some("elevator"), Priority::Normal, filed),
            (t("2026-11-28T11:00:00Z"), t("2026-11-29T09:00:00Z"))
        );
        assert_eq!(
            deadlines(&slas, Some("noise"), Priority::Normal, filed),
            (t("2026-11-28T17:00:00Z"), t("2026-12-03T09:00:00Z"))
        );
        assert_eq!(
            deadlines(&slas, Some("noise"), Priority::Emergency, filed),
            (t("2026-11-28T10:00:00Z"), t("2026-11-29T09:00:00Z"))
        );
        assert_eq!(
            overdue(t("2026-11-28T10:00:00Z"), t("2026-11-28T10:30:00Z")),
            Some(Duration::minutes(30))
        );
        assert_eq!(
            overdue(t("2026-11-28T10:00:00Z"), t("2026-11-28T10:00:00Z")),
            None
        );
    }
}
