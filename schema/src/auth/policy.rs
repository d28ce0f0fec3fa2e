//! The one place that decides who may do what.
//!
//! Rules come from `matrix.txt` (operation × role). An object outside the caller's
//! organisation, outside the houses their role is limited to, or (for a resident)
//! not theirs, does not exist for them: NOT_FOUND. An object they can see with an
//! operation their roles do not allow: FORBIDDEN. An operation missing from the
//! matrix is refused.

use std::collections::HashMap;
use std::sync::LazyLock;

use uuid::Uuid;

use super::principal::{Principal, Residence, Role};
use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rule {
    Yes,
    Own,
    No,
    User,
    Public,
}

impl Rule {
    fn parse(text: &str) -> Option<Rule> {
        Some(match text {
            "yes" => Rule::Yes,
            "own" => Rule::Own,
            "no" => Rule::No,
            "user" => Rule::User,
            "public" => Rule::Public,
            _ => return None,
        })
    }
}

pub const MATRIX_TEXT: &str = include_str!("matrix.txt");

/// Operation (or field) → one rule per role, in `Role::ALL` order.
pub type Matrix = HashMap<String, [Rule; 7]>;

pub fn parse_matrix(text: &str) -> Result<Matrix, String> {
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cells = line.split_whitespace();
        let op = cells.next().unwrap_or_default().to_string();
        let rules: Vec<Rule> = cells
            .map(|c| Rule::parse(c).ok_or_else(|| format!("line {}: unknown rule `{c}`", n + 1)))
            .collect::<Result<_, _>>()?;
        let rules: [Rule; 7] = rules
            .try_into()
            .map_err(|_| format!("line {}: expected 7 rules", n + 1))?;
        if out.insert(op.clone(), rules).is_some() {
            return Err(format!("line {}: {op} appears twice", n + 1));
        }
    }
    Ok(out)
}

static MATRIX: LazyLock<Matrix> = LazyLock::new(|| match parse_matrix(MATRIX_TEXT) {
    Ok(m) => m,
    Err(e) => {
        // Fail closed: with a broken matrix nothing is allowed. A unit test keeps it parseable.
        tracing::error!(error = %e, "the access matrix does not parse; every operation is refused");
        HashMap::new()
    }
});

pub fn rule(op: &str, role: Role) -> Rule {
    MATRIX.get(op).map_or(Rule::No, |rules| rules[role.index()])
}

/// What an operation is about, with what the policy needs to place it.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Organisation(Uuid),
    /// An action over the whole organisation (its settings, staff, new houses,
    /// imports): a role limited to some houses sees the organisation but may
    /// not act on all of it.
    WholeOrganisation(Uuid),
    House {
        org: Uuid,
        id: Uuid,
    },
    Premises {
        org: Uuid,
        house: Uuid,
        id: Uuid,
    },
    Account {
        org: Uuid,
        house: Uuid,
        id: Uuid,
    },
    /// `houses`: where the person holds an account or occupies premises; asked only
    /// for staff limited to some houses.
    Person {
        org: Uuid,
        id: Uuid,
        houses: Option<&'a [Uuid]>,
    },
    Meter {
        org: Uuid,
        house: Uuid,
        premises: Option<Uuid>,
    },
}

impl Target<'_> {
    pub fn org(&self) -> Uuid {
        match *self {
            Target::Organisation(org)
            | Target::WholeOrganisation(org)
            | Target::House { org, .. }
            | Target::Premises { org, .. }
            | Target::Account { org, .. }
            | Target::Person { org, .. }
            | Target::Meter { org, .. } => org,
        }
    }

    fn entity(&self) -> &'static str {
        match self {
            Target::Organisation(_) | Target::WholeOrganisation(_) => "organisation",
            Target::House { .. } => "house",
            Target::Premises { .. } => "premises",
            Target::Account { .. } => "account",
            Target::Person { .. } => "person",
            Target::Meter { .. } => "meter",
        }
    }

    fn in_houses(&self, houses: &std::collections::HashSet<Uuid>) -> bool {
        match *self {
            Target::Organisation(_) | Target::WholeOrganisation(_) => true,
            Target::House { id, .. } => houses.contains(&id),
            Target::Premises { house, .. }
            | Target::Account { house, .. }
            | Target::Meter { house, .. } => houses.contains(&house),
            Target::Person { houses: of, .. } => {
                of.is_some_and(|of| of.iter().any(|h| houses.contains(h)))
            }
        }
    }

    fn owned_by(&self, r: &Residence) -> bool {
        match *self {
            Target::Organisation(_) | Target::WholeOrganisation(_) => true,
            Target::House { id, .. } => r.houses.contains(&id),
            Target::Premises { id, .. } => r.premises.contains(&id),
            Target::Account { id, .. } => r.accounts.contains(&id),
            Target::Person { id, .. } => r.people.contains(&id),
            Target::Meter { premises, .. } => premises.is_some_and(|p| r.premises.contains(&p)),
        }
    }
}

/// Which rows of a list the caller may see.
#[derive(Clone, Debug)]
pub enum ListScope {
    All,
    Houses(Vec<Uuid>),
    Own(Residence),
}

impl Principal {
    /// Whether the caller must supply `Target::Person::houses` for this organisation.
    pub fn house_limited(&self, org: Uuid) -> bool {
        !self.system && self.membership(org).is_some_and(|m| m.houses.is_some())
    }

    /// May the caller run `op` on `target`? NOT_FOUND when they cannot see it at all.
    pub fn check(&self, op: &str, target: Target<'_>) -> AppResult<()> {
        if self.system {
            return Ok(());
        }
        let org = target.org();
        let mut visible = false;
        if let Some(m) = self.membership(org) {
            if m.houses.as_ref().is_none_or(|h| target.in_houses(h)) {
                visible = true;
                let whole = matches!(target, Target::WholeOrganisation(_));
                let limited = m.houses.is_some();
                if !(whole && limited) && m.roles.iter().any(|r| rule(op, *r) == Rule::Yes) {
                    return Ok(());
                }
            }
        }
        if let Some(r) = self.residence(org) {
            let owned = target.owned_by(r);
            match rule(op, Role::Resident) {
                Rule::Yes => return Ok(()),
                Rule::Own if owned => return Ok(()),
                _ => visible |= owned,
            }
        }
        if visible {
            Err(forbidden(op))
        } else {
            Err(AppError::not_found(target.entity()))
        }
    }

    /// The rows of an organisation a list operation may return.
    pub fn scope(&self, op: &str, org: Uuid) -> AppResult<ListScope> {
        if self.system {
            return Ok(ListScope::All);
        }
        let mut member = false;
        if let Some(m) = self.membership(org) {
            member = true;
            if m.roles.iter().any(|r| rule(op, *r) == Rule::Yes) {
                return Ok(match &m.houses {
                    None => ListScope::All,
                    Some(h) => ListScope::Houses(h.iter().copied().collect()),
                });
            }
        }
        if let Some(r) = self.residence(org) {
            member = true;
            match rule(op, Role::Resident) {
                Rule::Yes => return Ok(ListScope::All),
                Rule::Own => return Ok(ListScope::Own(r.clone())),
                _ => {}
            }
        }
        if member {
            Err(forbidden(op))
        } else {
            Err(AppError::not_found("organisation"))
        }
    }

    /// Like `scope`, for lists that span the whole organisation (its staff, its
    /// audit log): a role limited to some houses is refused.
    pub fn scope_whole(&self, op: &str, org: Uuid) -> AppResult<()> {
        match self.scope(op, org)? {
            ListScope::All => Ok(()),
            _ => Err(forbidden(op)),
        }
    }

    /// Keeps the items of a nested list the caller may see through `op`;
    /// FORBIDDEN when their roles deny `op` altogether.
    pub fn visible<'t, T>(
        &self,
        op: &str,
        org: Uuid,
        items: Vec<T>,
        target: impl Fn(&T) -> Target<'t>,
    ) -> AppResult<Vec<T>> {
        if self.system {
            return Ok(items);
        }
        self.scope(op, org)?;
        Ok(items
            .into_iter()
            .filter(|item| self.check(op, target(item)).is_ok())
            .collect())
    }

    /// A field of an object the caller already sees (personal data, history):
    /// decided by role, and for residents by ownership; house limits were
    /// applied when the object was reached.
    pub fn check_field(&self, op: &str, target: Target<'_>) -> AppResult<()> {
        if self.system {
            return Ok(());
        }
        let org = target.org();
        if let Some(m) = self.membership(org) {
            if m.roles.iter().any(|r| rule(op, *r) == Rule::Yes) {
                return Ok(());
            }
        }
        if let Some(r) = self.residence(org) {
            match rule(op, Role::Resident) {
                Rule::Yes => return Ok(()),
                Rule::Own if target.owned_by(r) => return Ok(()),
                _ => {}
            }
        }
        Err(forbidden(op))
    }
}

pub fn forbidden(op: &str) -> AppError {
    AppError::Forbidden {
        operation: op.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_matrix_parses_and_names_each_operation_once() {
        let m = parse_matrix(MATRIX_TEXT).unwrap();
        assert!(m.len() > 40);
        assert_eq!(m["Mutation.createHouse"][Role::Admin.index()], Rule::Yes);
        assert_eq!(m["Mutation.createHouse"][Role::Resident.index()], Rule::No);
        assert_eq!(m["Query.account"][Role::Resident.index()], Rule::Own);
    }

    #[test]
    fn a_broken_matrix_is_refused_with_its_line() {
        assert!(parse_matrix("Query.x yes yes")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse_matrix("Query.x yes yes yes yes yes yes maybe")
            .unwrap_err()
            .contains("maybe"));
    }

    fn staff(org: Uuid, roles: Vec<Role>, houses: Option<Vec<Uuid>>) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            email: "x@example.org".into(),
            display_name: "x".into(),
            session: None,
            memberships: vec![super::super::principal::Membership {
                organisation_id: org,
                roles,
                houses: houses.map(|h| h.into_iter().collect()),
            }],
            residences: vec![],
            system: false,
        }
    }

    #[test]
    fn another_organisation_does_not_exist_for_staff() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let p = staff(a, vec![Role::Admin], None);
        let house = Uuid::now_v7();
        assert!(p
            .check("Query.house", Target::House { org: a, id: house })
            .is_ok());
        let err = p
            .check("Query.house", Target::House { org: b, id: house })
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND");
        assert_eq!(p.scope("Query.houses", b).unwrap_err().code(), "NOT_FOUND");
    }

    #[test]
    fn a_house_limited_role_sees_only_its_houses_and_is_forbidden_what_its_role_denies() {
        let org = Uuid::now_v7();
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let p = staff(org, vec![Role::Dispatcher], Some(vec![mine]));
        let premises = |house| Target::Premises {
            org,
            house,
            id: Uuid::now_v7(),
        };
        assert!(p.check("Query.premises", premises(mine)).is_ok());
        assert_eq!(
            p.check("Query.premises", premises(other))
                .unwrap_err()
                .code(),
            "NOT_FOUND"
        );
        assert_eq!(
            p.check("Mutation.updatePremises", premises(mine))
                .unwrap_err()
                .code(),
            "FORBIDDEN"
        );
        assert!(
            matches!(p.scope("Query.premisesList", org).unwrap(), ListScope::Houses(h) if h == vec![mine])
        );
        assert_eq!(
            p.check("Query.nope", premises(mine)).unwrap_err().code(),
            "FORBIDDEN"
        );
    }
}
