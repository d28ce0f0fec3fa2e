//! The registry's questions to the policy: targets of its objects and the rows
//! a list may return.

use entities::{account, house, meter, occupancy, person, premises};

use super::service::{houses_of_person, Restrict};
use super::Registry;
use crate::auth::{ListScope, Principal, Target};
use crate::error::AppResult;

/// What kind of rows a list returns.
#[derive(Clone, Copy)]
pub enum Rows {
    Houses,
    Premises,
    Accounts,
    Meters,
    People,
}

pub fn restrict(scope: ListScope, rows: Rows) -> Restrict {
    match scope {
        ListScope::All => Restrict::default(),
        ListScope::Houses(h) => match rows {
            Rows::Houses => Restrict {
                ids: Some(h),
                ..Restrict::default()
            },
            _ => Restrict {
                houses: Some(h),
                ..Restrict::default()
            },
        },
        ListScope::Own(r) => match rows {
            Rows::Houses => Restrict {
                ids: Some(r.houses.into_iter().collect()),
                ..Restrict::default()
            },
            Rows::Premises => Restrict {
                ids: Some(r.premises.into_iter().collect()),
                ..Restrict::default()
            },
            Rows::Accounts => Restrict {
                ids: Some(r.accounts.into_iter().collect()),
                ..Restrict::default()
            },
            Rows::Meters => Restrict {
                premises: Some(r.premises.into_iter().collect()),
                ..Restrict::default()
            },
            Rows::People => Restrict {
                ids: Some(r.people.into_iter().collect()),
                ..Restrict::default()
            },
        },
    }
}

pub fn house(h: &house::Model) -> Target<'static> {
    super::service::house_target(h)
}

pub fn premises(p: &premises::Model) -> Target<'static> {
    super::service::premises_target(p)
}

pub fn account(a: &account::Model) -> Target<'static> {
    super::service::account_target(a)
}

pub fn meter(m: &meter::Model) -> Target<'static> {
    super::service::meter_target(m)
}

pub fn occupancy_premises(o: &occupancy::Model, house_id: uuid::Uuid) -> Target<'static> {
    Target::Premises {
        org: o.organisation_id,
        house: house_id,
        id: o.premises_id,
    }
}

/// Checks `op` on a person, looking up their houses only when the caller's role
/// is limited to some houses.
pub async fn check_person(
    registry: &Registry,
    principal: &Principal,
    op: &str,
    p: &person::Model,
) -> AppResult<()> {
    let houses = if principal.house_limited(p.organisation_id) {
        Some(houses_of_person(&registry.db, p.id).await?)
    } else {
        None
    };
    principal.check(
        op,
        Target::Person {
            org: p.organisation_id,
            id: p.id,
            houses: houses.as_deref(),
        },
    )
}
