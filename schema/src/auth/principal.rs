//! Who is calling: a user with memberships (staff roles, optionally limited to some
//! houses) and residences (the accounts they proved or were invited to), loaded
//! once per request from their session.

use std::collections::HashSet;

use uuid::Uuid;

/// A role in an organisation. `Resident` is never stored in a membership: it is
/// what a user is through their resident links.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    Admin,
    Accountant,
    Dispatcher,
    Engineer,
    Manager,
    Contractor,
    Resident,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Accountant,
        Role::Dispatcher,
        Role::Engineer,
        Role::Manager,
        Role::Contractor,
        Role::Resident,
    ];
    pub const STAFF: [Role; 6] = [
        Role::Admin,
        Role::Accountant,
        Role::Dispatcher,
        Role::Engineer,
        Role::Manager,
        Role::Contractor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Accountant => "accountant",
            Role::Dispatcher => "dispatcher",
            Role::Engineer => "engineer",
            Role::Manager => "manager",
            Role::Contractor => "contractor",
            Role::Resident => "resident",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Staff roles in one organisation.
#[derive(Clone, Debug)]
pub struct Membership {
    pub organisation_id: Uuid,
    pub roles: Vec<Role>,
    /// `None`: every house of the organisation.
    pub houses: Option<HashSet<Uuid>>,
}

/// What a resident owns in one organisation: their accounts and, through them,
/// premises, houses and people (holders).
#[derive(Clone, Debug, Default)]
pub struct Residence {
    pub organisation_id: Uuid,
    pub accounts: HashSet<Uuid>,
    pub premises: HashSet<Uuid>,
    pub houses: HashSet<Uuid>,
    pub people: HashSet<Uuid>,
}

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    /// Hash of the session token the request came with; `None` inside the server.
    pub session: Option<String>,
    pub memberships: Vec<Membership>,
    pub residences: Vec<Residence>,
    /// The server itself (command line, demo loader): every check passes.
    pub system: bool,
}

impl Principal {
    /// The server acting on its own behalf, e.g. `kvartal import` from the shell.
    pub fn system(what: &str) -> Self {
        Self {
            user_id: Uuid::nil(),
            email: what.to_string(),
            display_name: what.to_string(),
            session: None,
            memberships: Vec::new(),
            residences: Vec::new(),
            system: true,
        }
    }

    /// Staff of the organisation (or the system itself): sees what its
    /// residents see only once it is final.
    pub fn is_staff_of(&self, organisation_id: Uuid) -> bool {
        self.system || self.membership(organisation_id).is_some()
    }

    pub fn membership(&self, organisation_id: Uuid) -> Option<&Membership> {
        self.memberships
            .iter()
            .find(|m| m.organisation_id == organisation_id)
    }

    pub fn residence(&self, organisation_id: Uuid) -> Option<&Residence> {
        self.residences
            .iter()
            .find(|r| r.organisation_id == organisation_id)
    }

    /// Every organisation the caller belongs to, as staff or resident.
    pub fn organisations(&self) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = self.memberships.iter().map(|m| m.organisation_id).collect();
        for r in &self.residences {
            if !out.contains(&r.organisation_id) {
                out.push(r.organisation_id);
            }
        }
        out
    }

    /// The caller's roles in an organisation, as the audit log records them.
    pub fn roles_in(&self, organisation_id: Uuid) -> String {
        if self.system {
            return "system".into();
        }
        let mut roles: Vec<&str> = self
            .membership(organisation_id)
            .map(|m| m.roles.iter().map(|r| r.as_str()).collect())
            .unwrap_or_default();
        if self.residence(organisation_id).is_some() {
            roles.push(Role::Resident.as_str());
        }
        roles.join(",")
    }

    /// An administrator of a whole organisation somewhere (not limited to houses).
    pub fn is_admin_anywhere(&self) -> bool {
        self.system
            || self
                .memberships
                .iter()
                .any(|m| m.roles.contains(&Role::Admin) && m.houses.is_none())
    }
}
