//! Staff: members of an organisation with roles, optionally limited to houses.
//!
//! Invariants: a membership names at least one staff role; every house it is
//! limited to belongs to its organisation; an organisation always keeps at least
//! one admin.

use entities::{house, membership, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::passwords;
use super::policy::Target;
use super::principal::Role;
use super::service::Auth;
use crate::audit::{self, diff, Author};
use crate::error::{AppError, AppResult};

/// Gives `user_id` these roles (and houses) in `org`: the membership as it
/// was, if any, and as it is now.
pub(crate) async fn put_membership<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    user_id: Uuid,
    roles: String,
    houses: String,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(Option<membership::Model>, membership::Model)> {
    let current = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrganisationId.eq(org))
        .one(conn)
        .await?;
    let model = match current.clone() {
        Some(m) => {
            let mut am: membership::ActiveModel = m.into();
            am.roles = Set(roles);
            am.house_ids = Set(houses);
            am.updated_at = Set(now);
            am.update(conn).await?
        }
        None => {
            membership::ActiveModel {
                id: Set(Uuid::now_v7()),
                organisation_id: Set(org),
                user_id: Set(user_id),
                roles: Set(roles),
                house_ids: Set(houses),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(conn)
            .await?
        }
    };
    Ok((current, model))
}

/// What adding someone to the staff did.
#[derive(Debug)]
pub enum Added {
    /// A new user, or a member of the organisation already: the membership.
    Member(user::Model, membership::Model),
    /// Someone else's account: an invitation its owner may accept.
    Invited(super::invitations::Invitation),
}

impl Added {
    /// The membership made (the server's own callers never invite).
    pub fn member(self) -> AppResult<(user::Model, membership::Model)> {
        match self {
            Added::Member(u, m) => Ok((u, m)),
            Added::Invited(i) => Err(AppError::conflict(
                "email",
                "invited",
                format!("{} already has an account and was invited instead", i.email),
            )),
        }
    }
}

/// What an admin asks for when adding someone to their staff.
pub struct StaffDraft {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub houses: Vec<Uuid>,
    /// A first password for a new user; without one they log in by email code or
    /// a passkey registered later.
    pub password: Option<String>,
    pub locale: String,
}

fn roles_text(field: &str, roles: &[Role]) -> AppResult<String> {
    if roles.is_empty() {
        return Err(AppError::validation(field, "required", "at least one role"));
    }
    if roles.contains(&Role::Resident) {
        return Err(AppError::validation(
            field,
            "not_a_staff_role",
            "residents join through their account, not as staff",
        ));
    }
    let mut names: Vec<&str> = Role::STAFF
        .iter()
        .filter(|r| roles.contains(r))
        .map(|r| r.as_str())
        .collect();
    names.dedup();
    Ok(names.join(","))
}

async fn houses_text<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    field: &str,
    houses: &[Uuid],
) -> AppResult<String> {
    if houses.is_empty() {
        return Ok(String::new());
    }
    let found = house::Entity::find()
        .filter(house::Column::OrganisationId.eq(org))
        .filter(house::Column::Id.is_in(houses.to_vec()))
        .count(conn)
        .await?;
    let mut unique = houses.to_vec();
    unique.sort();
    unique.dedup();
    if found as usize != unique.len() {
        return Err(AppError::validation(
            field,
            "unknown_house",
            "a house is not one of the organisation's",
        ));
    }
    Ok(unique
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(","))
}

async fn admins_left<C: ConnectionTrait>(conn: &C, org: Uuid, except: Uuid) -> AppResult<u64> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrganisationId.eq(org))
        .filter(membership::Column::UserId.ne(except))
        .all(conn)
        .await?;
    Ok(rows
        .iter()
        .filter(|m| m.roles.split(',').any(|r| r == "admin"))
        .count() as u64)
}

impl Auth {
    /// Adds a person to an organisation's staff, creating their user when the
    /// email is new; an existing member gets the roles given.
    pub async fn add_staff_member(
        &self,
        by: &Author,
        org: Uuid,
        draft: StaffDraft,
    ) -> AppResult<Added> {
        by.check(Target::WholeOrganisation(org))?;
        let roles = roles_text("roles", &draft.roles)?;
        let password_hash = match draft.password {
            Some(p) => {
                passwords::check_strength("password", &p)?;
                Some(passwords::hash(p).await?)
            }
            None => None,
        };
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let houses = houses_text(&txn, org, "houseIds", &draft.houses).await?;
        let existing = user::Entity::find()
            .filter(user::Column::EmailKey.eq(super::service::email_key(&draft.email)))
            .one(&txn)
            .await?;
        let user = match existing {
            Some(u) => {
                let member = membership::Entity::find()
                    .filter(membership::Column::UserId.eq(u.id))
                    .filter(membership::Column::OrganisationId.eq(org))
                    .one(&txn)
                    .await?
                    .is_some();
                // The command line and the demo act for the operator, who
                // holds the database anyway; through the API, someone
                // else's account is only invited.
                if !member && !by.principal.system {
                    // Someone else's account: its owner accepts, or nothing happens.
                    if password_hash.is_some() {
                        return Err(AppError::validation(
                            "password",
                            "account_exists",
                            "this email already has an account: its owner keeps their password; leave the password empty and they are invited to join",
                        ));
                    }
                    let (invitation, letter) = self
                        .invite_staff(&txn, by, org, &u, roles, houses, now)
                        .await?;
                    txn.commit().await?;
                    self.send_invitation(letter).await?;
                    return Ok(Added::Invited(invitation));
                }
                u
            }
            None => {
                let created = self
                    .create_user(
                        &txn,
                        &draft.email,
                        &draft.display_name,
                        password_hash,
                        &draft.locale,
                        now,
                    )
                    .await?;
                // The admin who adds them vouches for the address.
                let mut am: user::ActiveModel = created.into();
                am.email_verified_at = Set(Some(now));
                am.update(&txn).await?
            }
        };
        let (current, model) = put_membership(&txn, org, user.id, roles, houses, now).await?;
        let mut changes = diff(current.as_ref(), Some(&model));
        changes["after"]["email"] = user.email.clone().into();
        audit::record(&txn, by, org, "membership", Some(user.id), changes, now).await?;
        txn.commit().await?;
        self.access_changed(user.id);
        Ok(Added::Member(user, model))
    }

    pub async fn update_membership(
        &self,
        by: &Author,
        org: Uuid,
        user_id: Uuid,
        roles: Vec<Role>,
        houses: Vec<Uuid>,
    ) -> AppResult<membership::Model> {
        by.check(Target::WholeOrganisation(org))?;
        let roles = roles_text("roles", &roles)?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_membership(&txn, org, user_id).await?;
        let houses = houses_text(&txn, org, "houseIds", &houses).await?;
        if current.roles.split(',').any(|r| r == "admin")
            && !roles.split(',').any(|r| r == "admin")
            && admins_left(&txn, org, user_id).await? == 0
        {
            return Err(AppError::conflict(
                "roles",
                "last_admin",
                "the organisation would have no admin left",
            ));
        }
        let mut am: membership::ActiveModel = current.clone().into();
        am.roles = Set(roles);
        am.house_ids = Set(houses);
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        audit::record(
            &txn,
            by,
            org,
            "membership",
            Some(user_id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        self.access_changed(user_id);
        Ok(model)
    }

    /// Removes someone from the staff; their sessions end.
    pub async fn remove_membership(&self, by: &Author, org: Uuid, user_id: Uuid) -> AppResult<()> {
        by.check(Target::WholeOrganisation(org))?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_membership(&txn, org, user_id).await?;
        if admins_left(&txn, org, user_id).await? == 0 {
            return Err(AppError::conflict(
                "userId",
                "last_admin",
                "the organisation would have no admin left",
            ));
        }
        membership::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            by,
            org,
            "membership",
            Some(user_id),
            diff(Some(&current), None),
            now,
        )
        .await?;
        txn.commit().await?;
        self.sessions.remove_user(user_id, None).await?;
        self.sessions_ended(user_id);
        Ok(())
    }

    /// The staff of an organisation, by name.
    pub async fn members(&self, org: Uuid) -> AppResult<Vec<(user::Model, membership::Model)>> {
        let ms = membership::Entity::find()
            .filter(membership::Column::OrganisationId.eq(org))
            .all(&self.db)
            .await?;
        let ids: Vec<Uuid> = ms.iter().map(|m| m.user_id).collect();
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .order_by_asc(user::Column::DisplayName)
            .all(&self.db)
            .await?;
        Ok(users
            .into_iter()
            .filter_map(|u| {
                let m = ms.iter().find(|m| m.user_id == u.id)?.clone();
                Some((u, m))
            })
            .collect())
    }

    /// `kvartal admin create`: the first administrator of an organisation.
    pub async fn bootstrap_admin(
        &self,
        org: Uuid,
        email: &str,
        display_name: &str,
        password: Option<String>,
    ) -> AppResult<user::Model> {
        let by = Author::system("kvartal admin create", "Mutation.addStaffMember");
        let (user, _) = self
            .add_staff_member(
                &by,
                org,
                StaffDraft {
                    email: email.to_string(),
                    display_name: display_name.to_string(),
                    roles: vec![Role::Admin],
                    houses: vec![],
                    password,
                    locale: "en".into(),
                },
            )
            .await?
            .member()?;
        Ok(user)
    }
}

async fn find_membership<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    user_id: Uuid,
) -> AppResult<membership::Model> {
    membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrganisationId.eq(org))
        .one(conn)
        .await?
        .ok_or(AppError::not_found("member"))
}
