//! Invitations to the staff for someone who already has an account.
//!
//! Adding a new email to the staff creates its user at once (the admin vouches
//! for the address). An email that already has an account is another matter:
//! whoever registered it first (a resident with a receipt's access code, say)
//! would otherwise become staff the moment an admin typed it. So its owner is
//! sent an invitation instead, and nothing changes until they, signed in,
//! accept it with the token from that email. A password cannot be set for an
//! existing account this way.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entities::{membership, user};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Set};
use uuid::Uuid;

use super::service::Auth;
use super::sessions::{new_token, token_hash};
use crate::audit::{self, Author};
use crate::error::{AppError, AppResult};

/// How long an invitation may be accepted.
pub const INVITATION_DAYS: i64 = 14;

/// The invitation's letter, sent after the commit.
pub(crate) struct Letter {
    to: String,
    subject: String,
    body: String,
}

/// An invitation as the admin sees it once sent.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub roles: String,
    pub expires_at: DateTime<Utc>,
}

fn message(locale: &str, org: &str, roles: &str, link: &str) -> (String, String) {
    match locale {
        "ru" => (
            format!("Приглашение в сотрудники «{org}»"),
            format!("Вас приглашают в сотрудники «{org}» (роли: {roles}).\n\nЧтобы принять приглашение, войдите в Квартал и откройте ссылку:\n{link}\n\nСсылка действует {INVITATION_DAYS} дней. Если вы не ждали приглашения, просто проигнорируйте письмо: ничего не изменится."),
        ),
        "pt-BR" => (
            format!("Convite para a equipe de {org}"),
            format!("Você foi convidado para a equipe de {org} (funções: {roles}).\n\nPara aceitar, entre no Kvartal e abra o link:\n{link}\n\nO link vale por {INVITATION_DAYS} dias. Se você não esperava este convite, ignore esta mensagem: nada mudará."),
        ),
        _ => (
            format!("Invitation to the staff of {org}"),
            format!("You are invited to the staff of {org} (roles: {roles}).\n\nTo accept, sign in to Kvartal and open the link:\n{link}\n\nThe link is valid for {INVITATION_DAYS} days. If you did not expect it, ignore this message: nothing changes."),
        ),
    }
}

impl Auth {
    /// Invites `existing` to `org`'s staff inside the caller's transaction;
    /// the letter with the link is sent once that transaction has committed
    /// ([`Auth::send_invitation`]), never while it holds the write lock.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn invite_staff(
        &self,
        txn: &DatabaseTransaction,
        by: &Author,
        org: Uuid,
        existing: &user::Model,
        roles: String,
        houses: String,
        now: DateTime<Utc>,
    ) -> AppResult<(Invitation, Letter)> {
        let token = new_token()?;
        let invitation = Invitation {
            id: Uuid::now_v7(),
            organisation_id: org,
            user_id: existing.id,
            email: existing.email.clone(),
            roles: roles.clone(),
            expires_at: (now + Duration::days(INVITATION_DAYS)).trunc_subsecs(6),
        };
        let backend = txn.get_database_backend();
        txn.execute_raw(crate::bulk::statement(backend, "INSERT INTO staff_invitations (id, organisation_id, user_id, roles, house_ids, token_hash, invited_by, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", vec![
                invitation.id.into(),
                org.into(),
                existing.id.into(),
                roles.clone().into(),
                houses.clone().into(),
                token_hash(&token).into(),
                Some(by.principal.user_id).filter(|_| !by.principal.system).into(),
                now.trunc_subsecs(6).into(),
                invitation.expires_at.into(),
            ]))
        .await?;
        let changes = serde_json::json!({ "after": {
            "invitation": existing.email, "roles": roles, "houseIds": houses,
            "expiresAt": invitation.expires_at.to_rfc3339(),
        } });
        audit::record(
            txn,
            by,
            org,
            "staff_invitation",
            Some(existing.id),
            changes,
            now,
        )
        .await?;
        let org_row = entities::organisation::Entity::find_by_id(org)
            .one(txn)
            .await?
            .ok_or(AppError::not_found("organisation"))?;
        let link = format!(
            "{}/#/staff-invitation?token={token}",
            self.config.public_url.trim_end_matches('/')
        );
        let (subject, body) = message(&existing.locale, &org_row.name, &roles, &link);
        Ok((
            invitation,
            Letter {
                to: existing.email.clone(),
                subject,
                body,
            },
        ))
    }

    /// Sends an invitation's letter. A failure says the invitation is kept
    /// but not delivered: adding the email again sends a new one.
    pub(crate) async fn send_invitation(&self, letter: Letter) -> AppResult<()> {
        self.mailer
            .send(&letter.to, &letter.subject, &letter.body)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "an invitation could not be sent");
                AppError::Unavailable {
                    what: "email",
                    message: format!(
                        "the invitation to {} is saved but could not be sent; add the email again to send a new one",
                        letter.to
                    ),
                }
            })
    }

    /// The signed-in user accepts an invitation sent to their email: they
    /// join the organisation's staff with the roles it names. Another user's,
    /// a used or an expired invitation is not found.
    pub async fn accept_staff_invitation(
        &self,
        by: &Author,
        token: &str,
    ) -> AppResult<(user::Model, membership::Model)> {
        let now = self.clock.now();
        // The invitee is not a member yet: the invitation is read as the server.
        crate::tenancy::as_system(async {
            let txn = crate::tx::begin_write(&self.db).await?;
            let backend = txn.get_database_backend();
            let row = txn
                .query_one_raw(crate::bulk::statement(backend, "SELECT id, organisation_id, user_id, roles, house_ids, expires_at, accepted_at \
                         FROM staff_invitations WHERE token_hash = ?", vec![token_hash(token.trim()).into()]))
                .await?
                .ok_or(AppError::not_found("invitation"))?;
            let id: Uuid = row.try_get("", "id")?;
            let org: Uuid = row.try_get("", "organisation_id")?;
            let user_id: Uuid = row.try_get("", "user_id")?;
            let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
            let accepted_at: Option<DateTime<Utc>> = row.try_get("", "accepted_at")?;
            if user_id != by.principal.user_id || accepted_at.is_some() || expires_at <= now {
                return Err(AppError::not_found("invitation"));
            }
            let roles: String = row.try_get("", "roles")?;
            let houses: String = row.try_get("", "house_ids")?;
            let user = user::Entity::find_by_id(user_id)
                .one(&txn)
                .await?
                .ok_or(AppError::not_found("invitation"))?;
            let (current, model) =
                super::staff::put_membership(&txn, org, user_id, roles, houses, now).await?;
            // The token came by mail to the address: it is theirs.
            if user.email_verified_at.is_none() {
                let mut am: user::ActiveModel = user.clone().into();
                am.email_verified_at = Set(Some(now));
                am.update(&txn).await?;
            }
            txn.execute_raw(crate::bulk::statement(backend, "UPDATE staff_invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL", vec![now.trunc_subsecs(6).into(), id.into()]))
            .await?;
            let mut changes = audit::diff(current.as_ref(), Some(&model));
            changes["after"]["email"] = user.email.clone().into();
            changes["after"]["acceptedInvitation"] = id.to_string().into();
            audit::record(&txn, by, org, "membership", Some(user_id), changes, now).await?;
            txn.commit().await?;
            self.access_changed(user_id);
            Ok((user, model))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn the_invitation_speaks_the_invitee_s_language_and_carries_the_link() {
        for locale in ["ru", "pt-BR", "en"] {
            let (subject, body) = message(
                locale,
                "УК Дом",
                "engineer",
                "https://k/#/staff-invitation?token=T",
            );
            assert!(subject.contains("УК Дом"), "{subject}");
            assert!(
                body.contains("https://k/#/staff-invitation?token=T"),
                "{body}"
            );
        }
    }
}
