//! The life of a complaint, enforced: which status may follow which, who may
//! move it, and what each step needs. Pure.
//!
//! new → assigned → in progress → (waiting for the resident | waiting for
//! parts) → in progress → done → closed; or rejected with a reason from new
//! or assigned. Done needs a completion comment and a photo. The resident who
//! filed it confirms (closes) it, or reopens it with a reason within the
//! organisation's number of days, back to its assignee; staff close it too.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Assigned,
    InProgress,
    WaitingResident,
    WaitingParts,
    Done,
    Closed,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::New,
        Status::Assigned,
        Status::InProgress,
        Status::WaitingResident,
        Status::WaitingParts,
        Status::Done,
        Status::Closed,
        Status::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::WaitingResident => "waiting_resident",
            Status::WaitingParts => "waiting_parts",
            Status::Done => "done",
            Status::Closed => "closed",
            Status::Rejected => "rejected",
        }
    }

    pub fn of(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Still someone's work: counts for the assignee's load and the SLA.
    pub fn open(self) -> bool {
        !matches!(self, Status::Done | Status::Closed | Status::Rejected)
    }
}

/// Who acts, as the complaint sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actor {
    /// Dispatchers, managers, admins: they run the board.
    pub dispatches: bool,
    /// The engineer or contractor it is assigned to.
    pub assignee: bool,
    /// The resident who filed it.
    pub author: bool,
    /// The system (automatic assignment, closing after the reopen window).
    pub system: bool,
}

/// What the request carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Given {
    pub comment: bool,
    pub photo: bool,
    pub reason: bool,
    pub assignee: bool,
}

/// Why a step is refused: the field at fault and a stable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub reason: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, reason: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        reason,
        message: message.into(),
    }
}

/// Checks a move from `from` to `to`. `done_at`: when it was last done (for
/// the reopen window of `reopen_days`).
pub fn check(
    from: Status,
    to: Status,
    who: Actor,
    given: Given,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    reopen_days: i64,
) -> Result<(), Refusal> {
    use Status::*;
    let staff = who.dispatches || who.system;
    let works = who.assignee || who.dispatches;
    let allowed = match (from, to) {
        (New, Assigned) | (Assigned, Assigned) => staff,
        (New | Assigned, Rejected) => who.dispatches,
        (Assigned, InProgress) => works,
        (InProgress, WaitingResident | WaitingParts) => works,
        (WaitingResident | WaitingParts, InProgress) => works,
        (InProgress, Done) => works,
        (Done, Closed) => who.author || staff,
        // Reopened: back to whoever did it.
        (Done | Closed, Assigned) => who.author || who.dispatches,
        _ => {
            return Err(refuse(
                "status",
                "transition",
                format!(
                    "a complaint cannot go from {} to {}",
                    from.code(),
                    to.code()
                ),
            ))
        }
    };
    if !allowed {
        return Err(refuse(
            "status",
            "not_allowed",
            format!(
                "you may not move this complaint from {} to {}",
                from.code(),
                to.code()
            ),
        ));
    }
    match (from, to) {
        (_, Assigned) if !given.assignee && matches!(from, New | Assigned) => {
            Err(refuse("assigneeId", "required", "whom it is assigned to"))
        }
        (_, Rejected) if !given.reason => Err(refuse("reason", "required", "why it is rejected")),
        (_, WaitingResident | WaitingParts) if !given.comment => Err(refuse(
            "comment",
            "required",
            "what is awaited, for the resident and the dispatcher",
        )),
        (_, Done) if !given.comment => Err(refuse("comment", "required", "what was done")),
        (_, Done) if !given.photo => Err(refuse("photo", "required", "a photo of the work done")),
        (Done | Closed, Assigned) => {
            if !given.reason {
                return Err(refuse("reason", "required", "why it is reopened"));
            }
            if who.author && !who.dispatches {
                let within = done_at.is_some_and(|d| now - d <= Duration::days(reopen_days));
                if !within {
                    return Err(refuse(
                        "status",
                        "reopen_window",
                        format!(
                            "a complaint can be reopened within {reopen_days} days of being done"
                        ),
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A resident's rating of the work: 1 to 5, once it is done.
pub fn check_rating(status: Status, stars: i32, who: Actor) -> Result<(), Refusal> {
    if !who.author {
        return Err(refuse(
            "rating",
            "not_allowed",
            "the resident who filed it rates it",
        ));
    }
    if !matches!(status, Status::Done | Status::Closed) {
        return Err(refuse(
            "rating",
            "not_done",
            "the work is rated once it is done",
        ));
    }
    if !(1..=5).contains(&stars) {
        return Err(refuse("rating", "invalid", "from 1 to 5"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use Status::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T10:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    const DISPATCHER: Actor = Actor {
        dispatches: true,
        assignee: false,
        author: false,
        system: false,
    };
    const ENGINEER: Actor = Actor {
        dispatches: false,
        assignee: true,
        author: false,
        system: false,
    };
    const RESIDENT: Actor = Actor {
        dispatches: false,
        assignee: false,
        author: true,
        system: false,
    };
    const SYSTEM: Actor = Actor {
        dispatches: false,
        assignee: false,
        author: false,
        system: true,
    };
    const NOBODY: Actor = Actor {
        dispatches: false,
        assignee: false,
        author: false,
        system: false,
    };

    fn step(
        from: Status,
        to: Status,
        who: Actor,
        given: Given,
    ) -> Result<(), (&'static str, &'static str)> {
        check(from, to, who, given, Some(at(10)), at(12), 7).map_err(|r| (r.field, r.reason))
    }

    #[test]
    fn the_happy_path_with_what_each_step_needs() {
        let assignee = Given {
            assignee: true,
            ..Given::default()
        };
        assert_eq!(step(New, Assigned, SYSTEM, assignee), Ok(()));
        assert_eq!(
            step(New, Assigned, DISPATCHER, Given::default()),
            Err(("assigneeId", "required"))
        );
        assert_eq!(
            step(Assigned, InProgress, ENGINEER, Given::default()),
            Ok(())
        );
        assert_eq!(
            step(InProgress, WaitingParts, ENGINEER, Given::default()),
            Err(("comment", "required"))
        );
        let comment = Given {
            comment: true,
            ..Given::default()
        };
        assert_eq!(step(InProgress, WaitingParts, ENGINEER, comment), Ok(()));
        assert_eq!(
            step(WaitingParts, InProgress, ENGINEER, Given::default()),
            Ok(())
        );
        assert_eq!(
            step(InProgress, Done, ENGINEER, comment),
            Err(("photo", "required"))
        );
        assert_eq!(
            step(
                InProgress,
                Done,
                ENGINEER,
                Given {
                    photo: true,
                    ..Given::default()
                }
            ),
            Err(("comment", "required"))
        );
        assert_eq!(
            step(
                InProgress,
                Done,
                ENGINEER,
                Given {
                    comment: true,
                    photo: true,
                    ..Given::default()
                }
            ),
            Ok(())
        );
        assert_eq!(step(Done, Closed, RESIDENT, Given::default()), Ok(()));
    }

    #[test]
    fn only_allowed_moves_by_allowed_people() {
        assert_eq!(
            step(New, Done, DISPATCHER, Given::default()),
            Err(("status", "transition"))
        );
        assert_eq!(
            step(Closed, InProgress, DISPATCHER, Given::default()),
            Err(("status", "transition"))
        );
        assert_eq!(
            step(
                Rejected,
                Assigned,
                DISPATCHER,
                Given {
                    assignee: true,
                    reason: true,
                    ..Given::default()
                }
            ),
            Err(("status", "transition"))
        );
        assert_eq!(
            step(Assigned, InProgress, RESIDENT, Given::default()),
            Err(("status", "not_allowed"))
        );
        assert_eq!(
            step(Assigned, InProgress, NOBODY, Given::default()),
            Err(("status", "not_allowed"))
        );
        assert_eq!(
            step(
                New,
                Rejected,
                ENGINEER,
                Given {
                    reason: true,
                    ..Given::default()
                }
            ),
            Err(("status", "not_allowed"))
        );
        assert_eq!(
            step(New, Rejected, DISPATCHER, Given::default()),
            Err(("reason", "required"))
        );
        assert_eq!(
            step(
                New,
                Rejected,
                DISPATCHER,
                Given {
                    reason: true,
                    ..Given::default()
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn the_resident_reopens_within_the_window_with_a_reason() {
        let reason = Given {
            reason: true,
            ..Given::default()
        };
        assert_eq!(
            step(Done, Assigned, RESIDENT, Given::default()),
            Err(("reason", "required"))
        );
        assert_eq!(step(Done, Assigned, RESIDENT, reason), Ok(()));
        // Done on the 10th, window of 7 days: the 18th is too late for the resident, not for staff.
        let late = check(Closed, Assigned, RESIDENT, reason, Some(at(10)), at(18), 7);
        assert_eq!(late.map_err(|r| r.reason), Err("reopen_window"));
        assert_eq!(
            check(
                Closed,
                Assigned,
                DISPATCHER,
                reason,
                Some(at(10)),
                at(18),
                7
            ),
            Ok(())
        );
    }

    #[test]
    fn a_rating_is_the_author_s_once_done() {
        assert_eq!(check_rating(Done, 5, RESIDENT), Ok(()));
        assert_eq!(
            check_rating(InProgress, 5, RESIDENT).map_err(|r| r.reason),
            Err("not_done")
        );
        assert_eq!(
            check_rating(Closed, 6, RESIDENT).map_err(|r| r.reason),
            Err("invalid")
        );
        assert_eq!(
            check_rating(Closed, 4, DISPATCHER).map_err(|r| r.reason),
            Err("not_allowed")
        );
        assert!(Status::ALL.iter().all(|s| Status::of(s.code()) == Some(*s)));
        assert_eq!(Status::ALL.iter().filter(|s| s.open()).count(), 5);
    }
}
