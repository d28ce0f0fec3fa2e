//! Who sees a complaint's change as it happens: the live feed's rule.
//!
//! Staff see their organisation's complaints (their houses, when limited);
//! a resident sees their own (filed by them or about their account), never a
//! neighbour's complaint about the house, which `complaint(id)` hides from
//! them too.

use uuid::Uuid;

use crate::auth::{Principal, Target};
use crate::events::Event;

/// The `complaint.updated` event's payload.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub id: Uuid,
    pub number: i64,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
}

/// Whether `p` sees this change; one house's with `house`, one assignee's
/// (as assigned now) with `assignee`.
pub fn sees_change(
    p: &Principal,
    operation: &str,
    house: Option<Uuid>,
    assignee: Option<Uuid>,
    e: &Event,
) -> bool {
    let Some(h) = e.house_id else { return false };
    if house.is_some_and(|x| x != h) {
        return false;
    }
    let target = match (e.account_id, e.premises_id) {
        (Some(a), _) => Target::Account {
            org: e.organisation_id,
            house: h,
            id: a,
        },
        (None, Some(pr)) => Target::Premises {
            org: e.organisation_id,
            house: h,
            id: pr,
        },
        (None, None) => Target::House {
            org: e.organisation_id,
            id: h,
        },
    };
    if p.check(operation, target).is_err() {
        return false;
    }
    let Some(c) = e.decode::<Changed>() else {
        return false;
    };
    let staff = p.is_staff_of(e.organisation_id);
    let theirs = c.author_id == Some(p.user_id)
        || e.account_id.is_some_and(|a| {
            p.residence(e.organisation_id)
                .is_some_and(|r| r.accounts.contains(&a))
        });
    (staff || theirs) && (assignee.is_none() || c.assignee_id == assignee)
}
