//! GraphQL types of users, memberships and sessions.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{membership, passkey, user};

use super::principal::Role;
use super::sessions::SessionRecord;
use crate::registry::types::{Account, Organisation};
use crate::registry::Registry;

/// A role in an organisation.
#[derive(Enum, Copy, Clone, PartialEq, Eq, Debug)]
#[graphql(name = "Role")]
pub enum RoleKind {
    Admin,
    Accountant,
    Dispatcher,
    Engineer,
    Manager,
    Contractor,
    Resident,
}

impl From<Role> for RoleKind {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleKind::Admin,
            Role::Accountant => RoleKind::Accountant,
            Role::Dispatcher => RoleKind::Dispatcher,
            Role::Engineer => RoleKind::Engineer,
            Role::Manager => RoleKind::Manager,
            Role::Contractor => RoleKind::Contractor,
            Role::Resident => RoleKind::Resident,
        }
    }
}

impl From<RoleKind> for Role {
    fn from(r: RoleKind) -> Self {
        match r {
            RoleKind::Admin => Role::Admin,
            RoleKind::Accountant => Role::Accountant,
            RoleKind::Dispatcher => Role::Dispatcher,
            RoleKind::Engineer => Role::Engineer,
            RoleKind::Manager => Role::Manager,
            RoleKind::Contractor => Role::Contractor,
            RoleKind::Resident => Role::Resident,
        }
    }
}

/// Where a session is used: the web (a cookie) or an app (a bearer token).
#[derive(Enum, Copy, Clone, PartialEq, Eq, Debug, Default)]
pub enum ClientKind {
    #[default]
    Web,
    App,
}

/// A user's place in one organisation.
pub struct MembershipInfo {
    pub organisation_id: uuid::Uuid,
    pub roles: Vec<Role>,
    pub houses: Vec<uuid::Uuid>,
}

impl From<&membership::Model> for MembershipInfo {
    fn from(m: &membership::Model) -> Self {
        Self {
            organisation_id: m.organisation_id,
            roles: m.roles.split(',').filter_map(Role::parse).collect(),
            houses: m
                .house_ids
                .split(',')
                .filter_map(|h| uuid::Uuid::parse_str(h).ok())
                .collect(),
        }
    }
}

#[Object(name = "Membership")]
impl MembershipInfo {
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let registry = ctx.data::<Registry>()?;
        Ok(Organisation(
            registry.organisation(self.organisation_id).await?,
        ))
    }
    async fn organisation_id(&self) -> ID {
        ID(self.organisation_id.to_string())
    }
    async fn roles(&self) -> Vec<RoleKind> {
        self.roles.iter().map(|r| (*r).into()).collect()
    }
    /// Empty: every house of the organisation.
    async fn house_ids(&self) -> Vec<ID> {
        self.houses.iter().map(|h| ID(h.to_string())).collect()
    }
}

/// The signed-in user.
pub struct Me {
    pub user: user::Model,
    pub memberships: Vec<MembershipInfo>,
    pub accounts: Vec<entities::account::Model>,
}

#[Object]
impl Me {
    async fn id(&self) -> ID {
        ID(self.user.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.user.email
    }
    async fn display_name(&self) -> &str {
        &self.user.display_name
    }
    async fn locale(&self) -> &str {
        &self.user.locale
    }
    async fn has_password(&self) -> bool {
        self.user.password_hash.is_some()
    }
    /// Staff roles, per organisation.
    async fn memberships(&self) -> &[MembershipInfo] {
        &self.memberships
    }
    /// The personal accounts the user is a resident of.
    async fn accounts(&self) -> Vec<Account> {
        self.accounts.iter().cloned().map(Account).collect()
    }
    /// What was set on this account before its email was proven, waiting for
    /// the owner's answer (`answerAddressClaim`); none when nothing waits. Until
    /// answered, the password and passkeys sign no one in.
    async fn address_claim(&self, ctx: &Context<'_>) -> Result<Option<AddressClaim>> {
        let claim = ctx.data::<super::Auth>()?.address_claim(&self.user).await?;
        Ok(claim.map(AddressClaim))
    }
}

/// An account registered under an address before its owner proved it: what
/// was set on it then.
pub struct AddressClaim(pub super::proof::AddressClaim);

#[Object]
impl AddressClaim {
    /// When the owner proved the address (a code sent to it).
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }
    /// When the account was registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.registered_at
    }
    /// Whether a password was set.
    async fn password(&self) -> bool {
        self.0.password
    }
    async fn passkeys(&self) -> u64 {
        self.0.passkeys
    }
    /// Numbers of the personal accounts it was made a resident of.
    async fn accounts(&self) -> &[String] {
        &self.0.accounts
    }
}

#[derive(InputObject)]
pub struct AnswerAddressClaimInput {
    /// True: the owner registered the account and set what is on it, which is
    /// kept. False: someone else did; their password, passkeys and residences
    /// are removed.
    pub registered_by_me: bool,
}

#[derive(SimpleObject)]
pub struct AnswerAddressClaimPayload {
    pub kept: bool,
    pub password_removed: bool,
    pub passkeys_removed: u64,
    /// Numbers of the personal accounts the user is no longer a resident of.
    pub accounts_removed: Vec<String>,
}

/// A staff member of an organisation.
pub struct Member {
    pub user: user::Model,
    pub membership: MembershipInfo,
}

#[Object]
impl Member {
    async fn user_id(&self) -> ID {
        ID(self.user.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.user.email
    }
    async fn display_name(&self) -> &str {
        &self.user.display_name
    }
    async fn disabled(&self) -> bool {
        self.user.disabled
    }
    async fn roles(&self) -> Vec<RoleKind> {
        self.membership.roles.iter().map(|r| (*r).into()).collect()
    }
    async fn house_ids(&self) -> Vec<ID> {
        self.membership
            .houses
            .iter()
            .map(|h| ID(h.to_string()))
            .collect()
    }
}

/// One open session of the signed-in user.
#[derive(SimpleObject)]
pub struct SessionInfo {
    pub method: String,
    pub address: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session this request came with.
    pub current: bool,
}

impl SessionInfo {
    pub fn new(rec: SessionRecord, current: Option<&str>) -> Self {
        Self {
            current: current == Some(rec.token_hash.as_str()),
            method: rec.method,
            address: rec.address,
            user_agent: rec.user_agent,
            created_at: rec.created_at,
            last_seen_at: rec.last_seen_at,
            expires_at: rec.expires_at,
        }
    }
}

/// A passkey of the signed-in user.
pub struct PasskeyInfo(pub passkey::Model);

#[Object(name = "Passkey")]
impl PasskeyInfo {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}
